"""Faults the production stack survives, each caused for real on running containers."""

import collections
import functools
import os
import signal
import threading
import time
import uuid

from tests.stack.stack import http, place_order, wait_for


def order_ids_in_database(stack) -> set[int]:
    return {int(line) for line in stack.psql("SELECT id FROM orders_order").split()}


def test_a_killed_gunicorn_master_is_restarted_and_serves_again(prod_stack):
    before = prod_stack.inspect("backend")["RestartCount"]
    os.kill(prod_stack.inspect("backend")["State"]["Pid"], signal.SIGKILL)  # a crash, not a docker stop
    wait_for(lambda: prod_stack.inspect("backend")["RestartCount"] > before, timeout=30, what="the restart")
    prod_stack.wait_ready()
    assert http("GET", prod_stack.url("/api/products/")).status == 200


def workers_once_replaced(stack, stopped: int, count: int) -> set[int] | None:
    workers = stack.gunicorn_workers()
    return workers if stopped not in workers and len(workers) == count else None


def test_a_stopping_worker_hands_its_waiting_connections_to_a_sibling(prod_stack):
    # Workers stop every max_requests, and on each deploy; with one listening socket
    # per worker, connections queued on a stopping worker's socket must not be reset.
    workers = prod_stack.gunicorn_workers()
    outcomes, done, lock = collections.Counter(), threading.Event(), threading.Lock()

    def client() -> None:
        while not done.is_set():
            try:
                outcome = http("GET", prod_stack.url("/health/live/")).status
            except OSError as exc:
                outcome = repr(exc)
            with lock:
                outcomes[outcome] += 1

    clients = [threading.Thread(target=client) for _ in range(16)]
    for thread in clients:
        thread.start()
    try:
        for _ in range(3):
            time.sleep(1)
            stopping = min(workers)
            os.kill(stopping, signal.SIGTERM)  # what Gunicorn does to a worker it recycles
            workers = wait_for(
                functools.partial(workers_once_replaced, prod_stack, stopping, len(workers)),
                timeout=30,
                what="the replacement worker",
            )
        time.sleep(1)
    finally:
        done.set()
        for thread in clients:
            thread.join()
    assert set(outcomes) == {200}, outcomes
    assert outcomes[200] > 100, outcomes


def test_postgres_down_is_a_json_503_and_the_backend_recovers_by_itself(prod_stack, shopper):
    token = shopper[0]
    status, order = place_order(prod_stack, shopper)
    assert status == 201
    started_at = prod_stack.inspect("backend")["State"]["StartedAt"]
    prod_stack.compose("stop", "db")
    try:
        ready = http("GET", prod_stack.url("/health/ready/"))
        assert ready.status == 503
        assert ready.json()["failing"] == ["database"]
        me = http("GET", prod_stack.url("/api/auth/me/"), token=token)
        assert me.status == 503
        assert me.headers["Content-Type"] == "application/json"
        assert "temporarily unavailable" in me.json()["detail"]
    finally:
        prod_stack.compose("start", "db")
    prod_stack.wait_ready()
    assert http("GET", prod_stack.url("/api/auth/me/"), token=token).status == 200
    assert prod_stack.inspect("backend")["State"]["StartedAt"] == started_at, "the backend needed a restart"
    assert order["id"] in order_ids_in_database(prod_stack)


def test_redis_down_keeps_the_catalogue_up_and_caching_resumes(prod_stack, shopper):
    """Both Redis instances down: every replica stays ready (readiness is PostgreSQL's),
    says it is degraded, and logs the outage once at ERROR."""
    # docker logs --since takes fractions of a second: whole seconds minus one also read
    # the last second of the previous test's database outage, its replicas dropped then.
    since = f"{time.time():.6f}"
    prod_stack.compose("stop", "redis", "cache")
    try:
        ready = http("GET", prod_stack.url("/health/ready/"))
        assert ready.status == 200
        assert ready.json()["status"] == "degraded" and ready.json()["degraded"] == ["cache", "redis"]
        products = http("GET", prod_stack.url(f"/api/products/?search={uuid.uuid4().hex[:4]}"))
        assert products.status == 200
        assert "count" in products.json()
        assert http("GET", prod_stack.url("/api/products/")).json()["count"] > 0
        # The throttled sign-in refuses rather than counting nothing (Retry-After says when to retry).
        login = http("POST", prod_stack.url("/api/auth/login/"), body={"email": "a@example.in", "password": "x"})
        assert login.status == 503 and int(login.headers["Retry-After"]) > 0
        assert prod_stack.inspect("backend")["State"]["Running"]
        # The edge kept routing to the replica: ready-backends never dropped it.
        dropped = prod_stack.compose("logs", "--since", since, "ready-backends").stdout
        assert "not ready" not in dropped, dropped[-2000:]
        logs = prod_stack.compose("logs", "--no-log-prefix", "--since", since, "backend").stdout.splitlines()
        errors = [line for line in logs if '"level": "ERROR"' in line and "redis is down (serving degraded)" in line]
        assert errors, logs[-20:]
    finally:
        prod_stack.compose("start", "redis", "cache")
    prod_stack.wait_ready()
    wait_for(
        lambda: prod_stack.redis_cli("ping", service="cache", check=False).stdout.strip() == "PONG",
        timeout=30,
        what="the cache answering",
    )
    assert http("GET", prod_stack.url(f"/api/products/?search={uuid.uuid4().hex[:4]}")).status == 200
    keys = prod_stack.redis_cli("--scan", "--pattern", "*catalogue:*product-list*", service="cache").stdout
    assert keys.strip(), "nothing was cached after Redis came back"


def test_the_cache_evicts_and_the_data_redis_never_does(prod_stack):
    policies = {
        service: prod_stack.redis_cli("CONFIG", "GET", "maxmemory-policy", service=service).stdout.split()[-1]
        for service in ("redis", "cache")
    }
    assert policies == {"redis": "noeviction", "cache": "allkeys-lru"}
    for service in ("redis", "cache"):
        maxmemory = int(prod_stack.redis_cli("CONFIG", "GET", "maxmemory", service=service).stdout.split()[-1])
        limit = prod_stack.inspect(service)["HostConfig"]["Memory"]
        assert 0 < maxmemory < limit, (service, maxmemory, limit)


def wait_healthy(stack, service: str) -> None:
    def healthy():
        state = stack.inspect(service)["State"]
        assert state["Status"] != "restarting", f"{service} is in a restart loop: {state}"
        return state.get("Health", {}).get("Status") == "healthy"

    wait_for(healthy, timeout=60, what=f"{service} healthy")


def test_redis_and_postgres_restart_with_their_data(prod_stack, shopper):
    """The official Redis entrypoint chowns /data as root under set -e: with the
    capabilities dropped, a second start must not be where it dies."""
    status, order = place_order(prod_stack, shopper)
    assert status == 201
    prod_stack.redis_cli("SET", "restart-probe", "namaste")
    for _ in range(2):  # the first start made appendonlydir; the ones after must cope with it
        for service in ("redis", "db"):
            prod_stack.compose("restart", service)
            wait_healthy(prod_stack, service)
            assert prod_stack.inspect(service)["RestartCount"] == 0
    assert prod_stack.redis_cli("GET", "restart-probe").stdout.strip() == "namaste"
    assert prod_stack.redis_cli("CONFIG", "GET", "appendonly").stdout.split()[-1] == "yes"
    assert order["id"] in order_ids_in_database(prod_stack)
    prod_stack.wait_ready()


def test_a_simulated_reboot_keeps_all_data_redis_included(prod_stack, shopper):
    status, order = place_order(prod_stack, shopper)
    assert status == 201
    prod_stack.redis_cli("SET", "reboot-probe", "still-here")
    prod_stack.compose("down")
    prod_stack.up()
    assert order["id"] in order_ids_in_database(prod_stack)
    assert prod_stack.redis_cli("GET", "reboot-probe").stdout.strip() == "still-here"
    assert http("GET", prod_stack.url("/api/auth/me/"), token=shopper[0]).status == 200


def test_every_acknowledged_order_survives_a_postgres_restart_mid_stream(prod_stack, shopper):
    acknowledged, statuses = [], []
    stop = threading.Event()

    def stream():
        while not stop.is_set():
            try:
                status, order = place_order(prod_stack, shopper)
            except OSError:
                status, order = "connection error", None
            statuses.append(status)
            if order:
                acknowledged.append(order["id"])

    worker = threading.Thread(target=stream)
    worker.start()
    try:
        wait_for(lambda: len(acknowledged) >= 5, timeout=60, what="orders before the restart")
        prod_stack.compose("restart", "db")
        count_at_restart = len(acknowledged)
        prod_stack.wait_ready()
        wait_for(lambda: len(acknowledged) >= count_at_restart + 5, timeout=60, what="orders after the restart")
    finally:
        stop.set()
        worker.join(timeout=60)
    missing = set(acknowledged) - order_ids_in_database(prod_stack)
    assert not missing, f"orders acknowledged with 201 but lost: {sorted(missing)}"
    assert all(status in (201, 503, "connection error") for status in statuses), set(statuses)
    print(f"{len(acknowledged)} orders acknowledged, statuses seen: {sorted(set(map(str, statuses)))}")
