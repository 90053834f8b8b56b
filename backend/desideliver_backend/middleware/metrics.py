"""Counts and times every request the app answers (desideliver_backend/metrics.py).

First in the chain after the health probes, so that responses answered early (the
catalogue cache, a refused host, a redirect to HTTPS) count too; the probes are left
out, or the edge's checks would be most of the traffic.
"""

import functools
import time

from django.urls import Resolver404, resolve

from desideliver_backend import metrics


def view_of(request) -> str:
    """The URL's view name (``product-detail``), resolving the path when no view ran."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return _view_of_path(request.path_info)
    return match.view_name or metrics.UNMATCHED


# The cached catalogue's few paths answer most requests before any view runs: resolving
# each again was most of what this middleware cost (scripts/bench --only metrics).
# Bounded, so that made-up paths only evict.
@functools.lru_cache(maxsize=1024)
def _view_of_path(path: str) -> str:
    try:
        return resolve(path).view_name or metrics.UNMATCHED
    except Resolver404:
        return metrics.UNMATCHED


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        view, method = view_of(request), request.method if request.method in KNOWN_METHODS else "other"
        metrics.REQUEST_SECONDS.labels(view, method).observe(time.perf_counter() - started)
        metrics.REQUESTS.labels(view, method, str(response.status_code)).inc()
        return response


# Anything else a client sends is one label value, not one series per made-up method.
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
