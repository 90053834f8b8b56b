"""Liveness and readiness probes for container health checks and load balancers.

``/health/live/``: the process answers; no I/O, so it stays cheap under load.
``/health/ready/``: PostgreSQL and Redis both answer; otherwise 503 naming what failed.
The response never carries exception text (host names, versions); the log does.
"""

import logging

from django.db import connection
from django.http import JsonResponse
from django_redis import get_redis_connection

logger = logging.getLogger("desideliver.health")

LIVE_PATH = "/health/live/"
READY_PATH = "/health/ready/"


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_redis() -> str:
    # The raw client bypasses the cache's IGNORE_EXCEPTIONS, so an outage shows here.
    get_redis_connection("default").ping()
    return "ok"


def readiness() -> tuple[int, dict]:
    checks = {}
    for name, check in (("database", _check_database), ("redis", _check_redis)):
        try:
            checks[name] = check()
        except Exception as exc:  # any failure means "not ready"; report it, never raise
            logger.warning("readiness check %s failed: %s: %s", name, exc.__class__.__name__, str(exc).strip()[:500])
            checks[name] = "unavailable"
    failing = sorted(name for name, result in checks.items() if result != "ok")
    if failing:
        return 503, {"status": "unavailable", "failing": failing, "checks": checks}
    return 200, {"status": "ok", "checks": checks}


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == LIVE_PATH:
            return JsonResponse({"status": "ok"})
        if request.path == READY_PATH:
            status, body = readiness()
            if status != 200:
                # A failed probe must not keep a broken connection for the next request.
                connection.close_if_unusable_or_obsolete()
            return JsonResponse(body, status=status)
        return self.get_response(request)
