"""Log formatting and filtering: one JSON object per line for production collectors."""

import json
import logging
import time
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            event["request_id"] = request_id
        status_code = getattr(record, "status_code", None)
        if status_code is not None:
            event["status"] = status_code
        return json.dumps(event, ensure_ascii=False)


class UtcFormatter(logging.Formatter):
    """Readable lines stamped in UTC, like the JSON ones (Django sets the process's TZ to TIME_ZONE)."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"


class SkipHealthChecks(logging.Filter):
    """Drops the development server's log line for each health probe (one every few seconds)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "/health/" not in record.getMessage()
