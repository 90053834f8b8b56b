"""Tracing (desideliver_backend/tracing.py) against a real OTLP/HTTP endpoint: a request
to the app as wsgi.py builds it, in a Gunicorn worker's place, sends one trace holding
the request's span, its SQL and Redis spans and the request's ID; so does a request to
the development server; without OTEL_EXPORTER_OTLP_ENDPOINT nothing is added to the app."""

import http.client
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.otlp_collector import Collector, attributes

BACKEND_DIR = Path(__file__).resolve().parents[3] / "backend"

# What Gunicorn does, in one process: its master loads wsgi.py, post_fork starts tracing.
WORKER = """
import sys
import gunicorn.arbiter  # noqa: F401 (wsgi.py leaves tracing to post_fork under Gunicorn)
from desideliver_backend import tracing, wsgi  # noqa: F401 (builds the app, as Gunicorn does)
from django.conf import settings
from django.test import Client

tracing.start("backend")
client = Client()
# A container probe, on a host ALLOWED_HOSTS does not name: answered all the same.
print(client.get("/health/live/", HTTP_HOST="10.9.8.7").status_code)
response = client.get(sys.argv[1], HTTP_HOST="localhost")
print(response.status_code, response["X-Request-ID"])
print([name.split(".")[0] for name in settings.MIDDLEWARE[:3]])
tracing.flush()
"""


@pytest.fixture
def collector():
    server = Collector().start()
    yield server
    server.shutdown()


def run_worker(path: str, **env: str) -> list[str]:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "desideliver_backend.settings.test", **env}
    result = subprocess.run(
        [sys.executable, "-c", WORKER, path], cwd=BACKEND_DIR, env=environment, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.split()


def test_a_request_sends_one_trace_with_its_sql_and_redis_spans_and_its_id(collector):
    endpoint = f"http://127.0.0.1:{collector.port}"
    search = uuid.uuid4().hex  # a cache miss: the list is built from PostgreSQL
    probe, status, request_id, *chain = run_worker(
        f"/api/products/?search={search}", OTEL_EXPORTER_OTLP_ENDPOINT=endpoint
    )
    assert (probe, status) == ("200", "200")
    assert "".join(chain) == "['desideliver_backend','desideliver_backend','opentelemetry']"
    assert set(collector.paths) == {"/v1/traces"}
    spans = collector.spans()
    assert {resource["service.name"] for resource, _ in spans} == {"desideliver-backend"}
    assert len({span.trace_id for _, span in spans}) == 1, "one trace: the request and everything it did"
    (server,) = [span for _, span in spans if span.kind == span.SPAN_KIND_SERVER]
    assert attributes(server)["request_id"] == request_id
    systems = {attributes(span).get("db.system") for _, span in spans}
    assert {"postgresql", "redis"} <= systems, systems
    for _, span in spans:
        leaked = {key: value for key, value in attributes(span).items() if search in str(value)}
        assert not leaked, f"no query string leaves: {span.name} {leaked}"


def test_the_development_server_sends_its_traces_too(collector):
    """runserver loads wsgi.py and serves from the same process: no Gunicorn fork to
    start tracing in, so wsgi.py does."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "desideliver_backend.settings.test",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.port}",
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # milliseconds between exports (5 s by default)
    }
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=BACKEND_DIR, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                connection.request("GET", "/api/products/", headers={"Host": "localhost"})
                assert connection.getresponse().status == 200
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()[-3000:]
                assert time.monotonic() < deadline, "the development server did not answer within 30 s"
                time.sleep(0.2)
            finally:
                connection.close()
        while not [span for _, span in collector.spans() if span.kind == span.SPAN_KIND_SERVER]:
            assert time.monotonic() < deadline, "no server span reached the collector within 30 s"
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert {resource["service.name"] for resource, _ in collector.spans()} == {"desideliver-backend"}


def test_without_an_endpoint_nothing_is_added_to_the_app(collector):
    probe, status, _, *chain = run_worker("/api/products/", OTEL_EXPORTER_OTLP_ENDPOINT="")
    assert (probe, status) == ("200", "200")
    assert "".join(chain) == "['desideliver_backend','desideliver_backend','desideliver_backend']"
    assert collector.received == []


def test_an_endpoint_that_is_not_a_url_stops_startup_naming_it():
    from tests.api.core.test_settings import run_django

    result = run_django({"OTEL_EXPORTER_OTLP_ENDPOINT": "otel-collector:4318"}, "check")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "configuration error: OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL (see .env.example)"
    )
