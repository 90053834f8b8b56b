"""A real OTLP/HTTP endpoint for the tracing tests of both suites (tests/api/core/test_tracing.py
in the development container, tests/stack/test_tracing.py on the host): it takes the
spans exporters post to /v1/traces, keeps them decoded, and answers as a collector does."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


class Collector(ThreadingHTTPServer):
    def __init__(self, host: str = "127.0.0.1"):
        self.received: list[ExportTraceServiceRequest] = []
        self.paths: list[str] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                collector.paths.append(self.path)
                collector.received.append(ExportTraceServiceRequest.FromString(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        super().__init__((host, 0), Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def start(self) -> "Collector":
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def spans(self) -> list[tuple[dict, object]]:
        """(resource attributes, span) of everything received so far."""
        found = []
        for request in list(self.received):
            for resource_spans in request.resource_spans:
                resource = {item.key: item.value.string_value for item in resource_spans.resource.attributes}
                for scope in resource_spans.scope_spans:
                    found += [(resource, span) for span in scope.spans]
        return found


def attributes(span) -> dict:
    return {item.key: item.value.string_value or item.value.int_value for item in span.attributes}
