"""Tracing (desideliver_backend/tracing.py): on when OTEL_EXPORTER_OTLP_ENDPOINT is set."""

import re

from desideliver_backend import env

# An OTLP/HTTP collector (the OpenTelemetry Collector, Jaeger, Tempo, Honeycomb...), e.g.
# http://otel-collector:4318; spans go to its /v1/traces. Empty: no tracing at all. The
# SDK reads the rest of the standard OTEL_* variables itself (OTEL_SERVICE_NAME,
# OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG).
OTEL_EXPORTER_OTLP_ENDPOINT = env.string("OTEL_EXPORTER_OTLP_ENDPOINT", "")
if OTEL_EXPORTER_OTLP_ENDPOINT and not re.fullmatch(r"https?://[^/\s]+(/\S*)?", OTEL_EXPORTER_OTLP_ENDPOINT):
    raise env.ConfigurationError("OTEL_EXPORTER_OTLP_ENDPOINT", "must be an http:// or https:// URL")
