"""Tracing: spans of each request, SQL statement, Redis command and Celery task, sent to
an OTLP/HTTP collector when OTEL_EXPORTER_OTLP_ENDPOINT is set (settings/tracing.py);
nothing at all when it is not. What it costs: docs/PERFORMANCE.md (scripts/bench).

Where each piece starts, and why there:
- Django's middleware is added in the process that loads the app (wsgi.py), before the
  middleware chain is built. Its spans wait for a tracer provider to exist.
- The provider and its exporter start in each process that serves: a Gunicorn worker
  (runtime/gunicorn_conf.py, post_fork), a Celery pool process (runtime/celery.py) or
  the development server (wsgi.py), with the SQL and Redis instrumentation. Gunicorn's
  master, which loads the app before it forks, sends nothing: a forked child never
  shares its exporter's connection.
- A span's trace is the request's; the request's ID (middleware/request_id.py) is the
  server span's attribute ``request_id``, so a trace leads to the log lines and back.
"""

import os

from django.conf import settings

REQUEST_ID_ATTRIBUTE = "request_id"
# OpenTelemetry's middleware goes right after these (it puts itself first): the health
# probes must answer whatever ALLOWED_HOSTS says, and its first step reads the request's
# host; after the metrics, a request it refuses (400, a bad host) is still counted.
TRACED_AFTER = (
    "desideliver_backend.middleware.health.HealthCheckMiddleware",
    "desideliver_backend.middleware.metrics.MetricsMiddleware",
)


def enabled() -> bool:
    return bool(settings.OTEL_EXPORTER_OTLP_ENDPOINT)


def instrument_django() -> None:
    """Adds OpenTelemetry's middleware to the settings, after TRACED_AFTER."""
    if not enabled():
        return
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    DjangoInstrumentor().instrument(request_hook=_drop_query_string, response_hook=_tag_request_id)
    chain = [name for name in settings.MIDDLEWARE if not name.startswith("opentelemetry.")]
    theirs = [name for name in settings.MIDDLEWARE if name.startswith("opentelemetry.")]
    position = max(chain.index(name) + 1 for name in TRACED_AFTER if name in chain)
    settings.MIDDLEWARE = chain[:position] + theirs + chain[position:]


def start(role: str) -> None:
    """The tracer provider of this process, and the SQL, Redis and Celery spans (a task
    queued here carries the trace to the worker); ``role`` names the service
    (desideliver-backend, desideliver-worker) unless OTEL_SERVICE_NAME does."""
    if not enabled():
        return
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.psycopg2 import Psycopg2Instrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    attributes = {"service.name": os.environ.get("OTEL_SERVICE_NAME") or f"desideliver-{role}"}
    if settings.SENTRY_RELEASE:
        attributes["service.version"] = settings.SENTRY_RELEASE
    provider = TracerProvider(resource=Resource.create(attributes))
    # The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (and _HEADERS) and posts to /v1/traces.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    # Statements without their parameters: no customer data leaves in a span.
    Psycopg2Instrumentor().instrument(skip_dep_check=True, enable_commenter=False)
    RedisInstrumentor().instrument()
    CeleryInstrumentor().instrument()


def flush(timeout_millis: int = 5000) -> None:
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    if hasattr(provider, "force_flush"):
        provider.force_flush(timeout_millis)


# Query strings may carry what must not leave (a reset link's token, an email address):
# a span keeps the URL's path only, as the logs do.
URL_ATTRIBUTES = ("http.url", "http.target", "url.full")


def _drop_query_string(span, request) -> None:
    if not span.is_recording():
        return
    for name in URL_ATTRIBUTES:
        value = span.attributes.get(name)
        if isinstance(value, str) and "?" in value:
            span.set_attribute(name, value.split("?", 1)[0])
    if span.attributes.get("url.query"):
        span.set_attribute("url.query", "")


def _tag_request_id(span, request, response) -> None:
    request_id = response.get("X-Request-ID") if response is not None else None
    if request_id and span.is_recording():
        span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)
