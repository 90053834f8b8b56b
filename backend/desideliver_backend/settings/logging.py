"""Log lines: readable in development, JSON in production (production.py)."""

from desideliver_backend import env

LOG_LEVEL = env.string("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "readable": {
            "()": "desideliver_backend.logging.UtcFormatter",
            "format": "{asctime} {levelname:<7} {name}: {message}",
            "style": "{",
        },
        "json": {"()": "desideliver_backend.logging.JsonFormatter"},
    },
    "filters": {"request_id": {"()": "desideliver_backend.middleware.request_id.RequestIdFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "readable", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.db.backends": {"level": "INFO"},
    },
}
