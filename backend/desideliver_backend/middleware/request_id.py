"""One ID per request, from the edge to the emails it sends: `grep` one ID and see
the edge's access line, the backend's log lines and the Celery tasks it queued.

- The edge sets X-Request-ID on every request it passes on (deploy/caddy/Caddyfile,
  which logs it too). Django believes it only from TRUSTED_PROXIES (proxies.py drops
  it from anyone else, like X-Forwarded-*) and only if it looks like an ID; otherwise
  it makes one. The response carries it back, for a client's bug report.
- Every log line written while the request runs has it (`request_id` in the JSON).
- A task queued meanwhile carries it in its message headers, and the worker's lines
  for that task have it too.
"""

import logging
import re
import uuid
from contextvars import ContextVar

from celery import signals

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
TASK_HEADER = "request_id"
# What an ID from a proxy may look like: UUIDs, hex, the usual tracing formats; nothing
# that could break a log line or a header.
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

current: ContextVar[str | None] = ContextVar("request_id", default=None)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.META.get(META_KEY, "")
        request_id = given if _VALID.fullmatch(given) else uuid.uuid4().hex
        request.META[META_KEY] = request_id
        token = current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Puts the running request's or task's ID on every record (``record.request_id``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current.get()
        return True


@signals.before_task_publish.connect
def _send_with_the_task(headers=None, **_):
    request_id = current.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


@signals.task_prerun.connect
def _adopt_in_the_worker(task=None, **_):
    given = getattr(task.request, TASK_HEADER, None) if task is not None else None
    current.set(given if isinstance(given, str) and _VALID.fullmatch(given) else None)


@signals.task_postrun.connect
def _forget_in_the_worker(**_):
    current.set(None)
