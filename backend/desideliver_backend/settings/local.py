"""Development: DEBUG on, console email, readable logs, browsable API.

Runs with no .env at all against the compose service names (db, redis); every
default below can be overridden from the environment.
"""

from desideliver_backend import env

# Stand-ins for variables that are not set (the environment and _FILE secrets win).
env.use_defaults(
    {
        "DEBUG": "true",
        "SECRET_KEY": "django-insecure-local-development-key-not-for-production",
        "ALLOWED_HOSTS": "localhost,127.0.0.1,0.0.0.0,[::1],backend",
        "DB_NAME": "desideliver_dev",
        "DB_USER": "desideliver",
        "DB_PASSWORD": "desideliver",
        "DB_HOST": "db",
        "REDIS_URL": "redis://redis:6379/0",
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "CORS_ALLOWED_ORIGINS": "http://localhost:3000,http://127.0.0.1:3000,http://localhost:5173",
    }
)

from .base import *  # noqa: E402, F403
from .base import LOGGING, MIDDLEWARE, REST_FRAMEWORK, STORAGES  # noqa: E402

# runserver serves static files itself from the apps; nothing is collected or hashed.
MIDDLEWARE = [entry for entry in MIDDLEWARE if entry != "whitenoise.middleware.WhiteNoiseMiddleware"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
}

DEMO_DATA_ALLOWED = True

# The container's health probe would otherwise log a request line every few seconds.
LOGGING["filters"]["skip_health_checks"] = {"()": "desideliver_backend.logging.SkipHealthChecks"}
LOGGING["loggers"]["django.server"] = {"handlers": ["console"], "filters": ["skip_health_checks"], "propagate": False}
