"""Tracing on the production stack (desideliver_backend/tracing.py): with
OTEL_EXPORTER_OTLP_ENDPOINT set, Gunicorn's workers and the Celery pool send their spans
to an OTLP/HTTP collector, and an order's trace runs from its request to the worker's
task that sends its email."""

import pytest

from tests.otlp_collector import Collector, attributes
from tests.stack.stack import gateway_of, place_order, wait_for

TRACED = ("backend", "worker")


@pytest.fixture(scope="module")
def collector(prod_stack):
    server = Collector(host="0.0.0.0").start()  # noqa: S104 (the stack's containers reach it)
    endpoint = f"http://{gateway_of(prod_stack.inspect('backend'))}:{server.port}"
    prod_stack.compose("up", "--detach", "--wait", "--no-deps", *TRACED,
                       env={**prod_stack.env, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint})  # fmt: skip
    yield server
    prod_stack.compose("up", "--detach", "--wait", "--no-deps", *TRACED)
    server.shutdown()


def test_an_orders_trace_runs_from_its_request_to_the_workers_email_task(prod_stack, shopper, collector):
    status, _ = place_order(prod_stack, shopper)
    assert status == 201

    def order_trace() -> dict[str, set[str]] | None:
        spans = collector.spans()
        created = [span for _, span in spans if span.kind == span.SPAN_KIND_SERVER and "orders/create" in span.name]
        if not created:
            return None
        trace_id = created[-1].trace_id
        services: dict[str, set[str]] = {}
        for resource, span in spans:
            if span.trace_id == trace_id:
                services.setdefault(resource["service.name"], set()).add(span.name)
        worker = services.get("desideliver-worker", set())
        return services if any("send_outbox_email" in name for name in worker) else None

    wait_for(order_trace, timeout=60, what="the order's request and its email task in one trace")
    services = order_trace()
    assert any(name.startswith("POST") for name in services["desideliver-backend"]), services
    request_spans = [span for _, span in collector.spans() if span.kind == span.SPAN_KIND_SERVER]
    assert all(attributes(span).get("request_id") for span in request_spans), "each request's span has its ID"
