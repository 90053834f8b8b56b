"""One ID per request (desideliver_backend/middleware/request_id.py): the edge's, believed only from
TRUSTED_PROXIES and only if it looks like an ID; on the response and on every log line
written meanwhile. (That the worker's lines for the request's tasks carry it too is
shown on the running stack: tests/stack/test_prod_stack.py.)"""

import io
import json
import logging
import re

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from desideliver_backend.logging import JsonFormatter
from desideliver_backend.middleware.proxies import TrustedProxyMiddleware
from desideliver_backend.middleware.request_id import RequestIdFilter, RequestIdMiddleware

pytestmark = pytest.mark.django_db

PROXY = "172.18.0.1"
NEW_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(autouse=True)
def _trusted(settings):
    settings.TRUSTED_PROXIES = [f"{PROXY}/32"]


def test_a_client_gets_an_id_of_the_backends_making_not_its_own(client):
    response = client.get("/api/products/", REMOTE_ADDR="203.0.113.9", HTTP_X_REQUEST_ID="chosen-by-the-client")
    assert response.status_code == 200
    assert NEW_ID.fullmatch(response["X-Request-ID"])
    assert client.get("/api/products/", REMOTE_ADDR="203.0.113.9")["X-Request-ID"] != response["X-Request-ID"]


def test_the_edges_id_is_kept(client):
    response = client.get("/api/products/", REMOTE_ADDR=PROXY, HTTP_X_REQUEST_ID="3f2c9a1e-5b7d-4c8e-9f10-2a3b4c5d6e7f")
    assert response["X-Request-ID"] == "3f2c9a1e-5b7d-4c8e-9f10-2a3b4c5d6e7f"


@pytest.mark.parametrize("hostile", ["", "two words", "x" * 129, 'id"}, {"level": "forged', "id\nERROR forged line"])
def test_an_id_that_does_not_look_like_one_is_replaced_even_from_the_edge(client, hostile):
    response = client.get("/api/products/", REMOTE_ADDR=PROXY, HTTP_X_REQUEST_ID=hostile)
    assert NEW_ID.fullmatch(response["X-Request-ID"])


def test_every_log_line_written_during_the_request_carries_its_id():
    # The project's own console handler's filters (settings/logging.py), in JSON as in production.
    console = next(h for h in logging.getLogger().handlers if any(isinstance(f, RequestIdFilter) for f in h.filters))
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.filters = list(console.filters)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("orders.services")
    logger.addHandler(handler)

    def view(request):
        logger.warning("inside the request")
        return HttpResponse()

    try:
        request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_REQUEST_ID="edge-id-1")
        middleware = TrustedProxyMiddleware(RequestIdMiddleware(view))
        assert middleware(request)["X-Request-ID"] == "edge-id-1"
        logger.warning("after the request")
    finally:
        logger.removeHandler(handler)
    inside, after = (json.loads(line) for line in lines.getvalue().splitlines())
    assert inside["request_id"] == "edge-id-1"
    assert "request_id" not in after
