"""Liveness and readiness probes for container health checks and load balancers.

``/health/live/``: the process answers; no I/O, so it stays cheap under load.
``/health/ready/``: 200 while PostgreSQL answers, 503 naming it when it does not.
Redis is checked too but never makes a replica unready: both Redis instances are
shared by every replica, so taking replicas out of rotation cannot help, and the
site is built to run without them (catalogue reads fall back to PostgreSQL; the
throttled sign-in and sign-up refuse with 503 and Retry-After). A Redis outage is answered as
``"status": "degraded"`` with ``"degraded": [...]``. Each outage is logged at ERROR
when it starts and at WARNING when it ends, not on every probe.
The response never carries exception text (host names, versions); the log does.
The two Redis checks run side by side and are waited for OPTIONAL_WAIT_SECONDS at most,
together (one deadline, not one each); a check still hanging from an earlier probe is
not waited for again, and while an outage lasts (a check failed at the last probe) the
new checks are waited for RECHECK_WAIT_SECONDS only:
a Redis whose name no longer resolves can hold a lookup for seconds (the socket
timeouts do not cover DNS), and the edge's probe gives up after two
(READY_BACKENDS_TIMEOUT), which would take a healthy replica out of rotation; on a busy
host even one second of each probe of an outage was too much of that budget.
"""

import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor, wait

from django.db import connection
from django.http import JsonResponse
from django_redis import get_redis_connection

logger = logging.getLogger("desideliver.health")

LIVE_PATH = "/health/live/"
READY_PATH = "/health/ready/"


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _redis_check(alias: str):
    def check() -> None:
        # The raw client bypasses the cache's IGNORE_EXCEPTIONS, so an outage shows here.
        get_redis_connection(alias).ping()

    return check


# PostgreSQL decides readiness; the data Redis (broker, throttle counters, beat lock)
# and the catalogue cache are reported.
REQUIRED = {"database": _check_database}
OPTIONAL = {"redis": _redis_check("default"), "cache": _redis_check("catalogue")}

# Per process: what was down at the last probe, so an outage is logged when it starts
# and when it ends, not once per probe.
_down_before: set[str] = set()


def _run(name: str, check) -> str:
    try:
        check()
        return "ok"
    except Exception as exc:  # any failure is reported, never raised
        if name not in _down_before:
            effect = "not ready" if name in REQUIRED else "serving degraded"
            detail = str(exc).strip()[:500]
            logger.error("readiness: %s is down (%s): %s: %s", name, effect, type(exc).__name__, detail)
        return "unavailable"


OPTIONAL_WAIT_SECONDS = 1.0
# A Redis that is back answers a ping in milliseconds; one that is still down is known.
RECHECK_WAIT_SECONDS = 0.25
_pools: dict[int, ThreadPoolExecutor] = {}
_in_flight: dict[tuple[int, str], Future] = {}


def _started(name: str, check) -> tuple[Future, bool]:
    """The check running now, or a new one, and whether it is new: a check that hangs is
    never queued again behind itself, and the probes that follow do not wait for it again
    (one pool per process: Gunicorn forks its workers from the master)."""
    pid = os.getpid()
    running = _in_flight.get((pid, name))
    if running is not None and not running.done():
        return running, False
    if pid not in _pools:
        _pools[pid] = ThreadPoolExecutor(max_workers=len(OPTIONAL), thread_name_prefix="readiness")
    _in_flight[(pid, name)] = future = _pools[pid].submit(_run, name, check)
    return future, True


def _slow(name: str) -> str:
    if name not in _down_before:
        logger.error("readiness: %s is down (serving degraded): no answer within %s s", name, OPTIONAL_WAIT_SECONDS)
    return "unavailable"


def readiness() -> tuple[int, dict]:
    started = {name: _started(name, check) for name, check in OPTIONAL.items()}
    checks = {name: _run(name, check) for name, check in REQUIRED.items()}
    # Only checks this probe started are waited for: one still hanging from an earlier
    # probe is already known to be slow, and waiting for it again would spend half the
    # edge's probe budget on every probe of an outage, on a busy host all of it.
    outage = bool(_down_before & OPTIONAL.keys())
    wait(
        [future for future, new in started.values() if new],
        timeout=RECHECK_WAIT_SECONDS if outage else OPTIONAL_WAIT_SECONDS,
    )
    for name, (future, _) in started.items():
        checks[name] = future.result() if future.done() else _slow(name)
    down = {name for name, result in checks.items() if result != "ok"}
    for name in sorted(_down_before - down):
        logger.warning("readiness: %s is back", name)
    _down_before.clear()
    _down_before.update(down)
    if failing := sorted(down & REQUIRED.keys()):
        return 503, {"status": "unavailable", "failing": failing, "checks": checks}
    if degraded := sorted(down):
        return 200, {"status": "degraded", "degraded": degraded, "checks": checks}
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
