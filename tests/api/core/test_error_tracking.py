"""Error tracking: with SENTRY_DSN set, an unhandled error in a view or a task reaches a
Sentry-protocol server (here a real HTTP server on loopback that receives the SDK's
envelopes) with the release, environment and request ID, and without passwords,
tokens or email addresses. Off when SENTRY_DSN is unset."""

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from celery import shared_task
from django.test import Client
from django.urls import path

from desideliver_backend import error_tracking
from desideliver_backend.env import ConfigurationError


def failing_view(request):
    raise RuntimeError("stock sync failed for asha.rao@example.in")


urlpatterns = [path("boom/", failing_view)]


@shared_task(name="tests.failing_task")
def failing_task(email):
    raise ValueError(f"could not email {email}")


class Receiver(BaseHTTPRequestHandler):
    envelopes: list[bytes]

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.envelopes.append((self.path, body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.envelopes = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def tracking(sentry_server):
    port = sentry_server.server_address[1]
    error_tracking.start(
        dsn=f"http://publickey@127.0.0.1:{port}/42", environment="staging", release="desideliver@1.4.2"
    )
    yield sentry_server
    off()


def off():
    """No client, as before start(): the tests after this one send nothing."""
    sentry_sdk.get_client().close(timeout=2)
    sentry_sdk.get_global_scope().set_client(None)


def events(server) -> list[tuple[dict, str]]:
    """Every error event received so far, with its envelope's raw text."""
    sentry_sdk.flush(timeout=5)
    found = []
    for url_path, body in server.envelopes:
        assert url_path == "/api/42/envelope/"
        text = body.decode()
        lines = text.splitlines()
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                found.append((json.loads(payload), text))
    return found


@pytest.mark.urls(__name__)
def test_a_view_that_raises_is_reported_with_release_environment_and_request_id(tracking):
    client = Client(raise_request_exception=False)
    response = client.post(
        "/boom/?email=asha.rao@example.in",
        data={"email": "asha.rao@example.in", "password": "hunter2-very-secret"},
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer eyJhbGciOi-not-a-real-token",
        HTTP_COOKIE="sessionid=abc123",
    )
    assert response.status_code == 500

    [(event, raw)] = events(tracking)  # once, though Django also logs it at ERROR
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["release"] == "desideliver@1.4.2"
    assert event["environment"] == "staging"
    assert event["tags"]["request_id"] == response["X-Request-ID"]
    assert "stock sync failed for [email]" in raw
    # (The source lines around the failing view are sent too, so no secret is written there.)
    for secret in ("hunter2-very-secret", "asha.rao@example.in", "eyJhbGciOi-not-a-real-token", "abc123"):
        assert secret not in raw, f"{secret!r} was sent"


def test_a_task_that_raises_is_reported_without_its_arguments(tracking):
    result = failing_task.apply(args=["asha.rao@example.in"], throw=False)
    assert result.failed()

    [(event, raw)] = events(tracking)
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    assert "tests.failing_task" in raw
    assert "asha.rao@example.in" not in raw


@pytest.mark.urls(__name__)
def test_off_without_a_dsn(sentry_server):
    assert not sentry_sdk.get_client().is_active()
    Client(raise_request_exception=False).get("/boom/")
    assert sentry_server.envelopes == []


def test_a_malformed_dsn_stops_start_up_naming_the_variable(monkeypatch):
    monkeypatch.setenv("SENTRY_DSN", "not a dsn")
    import importlib

    import desideliver_backend.settings.error_tracking as settings_module

    with pytest.raises(ConfigurationError, match="SENTRY_DSN is not a DSN"):
        importlib.reload(settings_module)
    off()
