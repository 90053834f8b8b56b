"""The Prometheus metrics on the production stack (desideliver_backend/metrics.py): the
Gunicorn master serves the sum over every worker on the internal port 9100, counts
outlive the worker that made them, the Celery worker serves its tasks' counts and the
outbox's backlog, and nothing of it is reachable through the edge."""

import os
import re
import signal

from tests.stack.stack import http, metrics, place_order, sample, wait_for

# Requests straight to Gunicorn inside the container, each on a new connection: the
# kernel spreads them over the workers' sockets (reuse_port).
STRAIGHT_TO_GUNICORN = """
import http.client, sys
for _ in range(int(sys.argv[1])):
    connection = http.client.HTTPConnection("127.0.0.1", 8000, timeout=10)
    connection.request("GET", "/api/categories/", headers={"Host": "localhost"})
    connection.getresponse().read()  # plain HTTP is redirected to HTTPS: answered and counted all the same
    connection.close()
"""


# Two requests whose headers never end hold two Gunicorn threads, as a slow client does;
# the busy threads are read while they are held and after they are let go.
HOLD_TWO_THREADS = """
import re, socket, time, urllib.request

def busy():
    text = urllib.request.urlopen("http://127.0.0.1:9100/metrics", timeout=5).read().decode()
    return float(re.search(r"^desideliver_gunicorn_busy_threads (\\S+)$", text, re.M).group(1))

def settle(done):
    deadline = time.monotonic() + 10
    while not done(value := busy()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value

clients = [socket.create_connection(("127.0.0.1", 8000), timeout=10) for _ in range(2)]
for client in clients:
    client.sendall(b"GET /health/live/ HTTP/1.1\\r\\nHost: localhost\\r\\n")
held = settle(lambda value: value >= 2)
for client in clients:
    client.sendall(b"Connection: close\\r\\n\\r\\n")
    client.recv(4096)
    client.close()
print(held, settle(lambda value: value == 0))
"""


def requests_to(text: str, view: str) -> float:
    """desideliver_http_requests_total of one view, summed over methods and statuses."""
    pattern = re.compile(rf'^desideliver_http_requests_total\{{[^}}]*view="{re.escape(view)}"[^}}]*\}} (\S+)$', re.M)
    return sum(float(value) for value in pattern.findall(text))


def workers_counting(prod_stack) -> set[str]:
    """The workers (container pids) with a counter file in the metrics directory; the
    master (PID 1) has one from loading the app, and counts nothing."""
    listing = prod_stack.exec("backend", "ls", "/tmp/metrics").stdout.split()
    pids = {name.rsplit("_", 1)[1].removesuffix(".db") for name in listing if name.startswith("counter_")}
    return pids - {"1"}


def test_the_master_serves_the_sum_over_every_worker(prod_stack):
    assert len(prod_stack.gunicorn_workers()) >= 2, "two workers or more, or this proves nothing"
    before = requests_to(metrics(prod_stack), "category-list")
    prod_stack.exec("backend", "python", "-c", STRAIGHT_TO_GUNICORN, "40")
    assert requests_to(metrics(prod_stack), "category-list") == before + 40
    assert len(workers_counting(prod_stack)) >= 2, "the requests were answered by more than one worker"


def test_the_master_serves_its_workers_threads_and_the_busy_ones(prod_stack):
    workers = len(prod_stack.gunicorn_workers())
    threads = int(prod_stack.exec("backend", "sh", "-c", 'echo "${GUNICORN_THREADS:-4}"').stdout)
    text = metrics(prod_stack)
    assert sample(text, "desideliver_gunicorn_workers") == workers
    assert sample(text, "desideliver_gunicorn_threads") == workers * threads
    held, after = prod_stack.exec("backend", "python", "-c", HOLD_TWO_THREADS).stdout.split()
    assert (float(held), float(after)) == (2, 0)
    assert sample(text, "desideliver_db_query_duration_seconds_count") > 0


def test_a_dead_workers_counts_stay_in_the_sum(prod_stack):
    prod_stack.exec("backend", "python", "-c", STRAIGHT_TO_GUNICORN, "20")
    workers = prod_stack.gunicorn_workers()
    before = requests_to(metrics(prod_stack), "category-list")
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    wait_for(
        lambda: victim not in (now := prod_stack.gunicorn_workers()) and len(now) == len(workers),
        timeout=60,
        what="the killed worker replaced",
    )
    assert requests_to(metrics(prod_stack), "category-list") == before


def test_the_metrics_are_not_reachable_through_the_edge(prod_stack):
    assert http("GET", prod_stack.url("/metrics")).status == 404
    published = prod_stack.inspect("backend")["NetworkSettings"]["Ports"] or {}
    assert all(not bindings for bindings in published.values()), published


def test_the_celery_worker_counts_the_emails_it_sends_and_the_backlog(prod_stack, shopper):
    sent = 'outcome="succeeded",task="notifications.tasks.send_outbox_email"'
    before = sample(metrics(prod_stack, "worker"), "desideliver_celery_tasks_total", sent) or 0.0
    status, _ = place_order(prod_stack, shopper)
    assert status == 201
    wait_for(
        lambda: sample(metrics(prod_stack, "worker"), "desideliver_celery_tasks_total", sent) == before + 1,
        timeout=60,
        what="the order's email counted as sent",
    )
    text = metrics(prod_stack, "worker")
    assert sample(text, "desideliver_outbox_emails", 'status="sent"') >= 1
    assert sample(text, "desideliver_outbox_emails", 'status="failed"') is not None
    assert sample(text, "desideliver_outbox_oldest_unsent_seconds") is not None
    assert sample(text, "desideliver_celery_queue_length", 'queue="celery"') is not None
