"""Error tracking: unhandled errors of the web app and of Celery tasks go to a
Sentry-protocol server (Sentry, or GlitchTip), with the release, the environment and
the request's ID (middleware/request_id.py), and without personal data.

What may never leave: passwords, tokens and email addresses. The SDK collects no user,
no cookies, no request bodies, no stack-frame variables and no SQL parameters here;
headers and query strings go through its sensitive-key denylist; and whatever still
looks like an email address in a message is replaced before an event is sent.
Started by settings/error_tracking.py when SENTRY_DSN is set.
"""

from __future__ import annotations

import re

import sentry_sdk

from desideliver_backend.middleware import request_id

EMAIL = re.compile(r"[^@\s\"'<>()\[\],;:]+@[^@\s\"'<>()\[\],;:]+\.[A-Za-z]{2,}")
REDACTED_EMAIL = "[email]"

DATA_COLLECTION = {
    "user_info": False,
    "cookies": {"mode": "off"},
    "http_bodies": [],
    "http_headers": {"request": {"mode": "denylist", "terms": ["cookie", "forwarded", "real-ip"]}},
    "url_query_params": {"mode": "denylist", "terms": ["email", "uid"]},
    "stack_frame_variables": False,
    "database_query_data": False,
}


def start(*, dsn: str, environment: str, release: str | None) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        data_collection=DATA_COLLECTION,
        before_send=_tag_and_scrub,
        # Errors only: no performance tracing unless an operator asks for it.
        traces_sample_rate=None,
    )


def _redact(value):
    if isinstance(value, str):
        return EMAIL.sub(REDACTED_EMAIL, value)
    if isinstance(value, dict):
        return {key: _redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


def _tag_and_scrub(event: dict, hint: dict) -> dict:
    current = request_id.current.get()
    if current:
        event.setdefault("tags", {})["request_id"] = current
    return _redact(event)
