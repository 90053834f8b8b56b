"""Image build steps (collectstatic): production's static pipeline, no secrets, no services."""

from desideliver_backend import env

env.use_defaults(
    {
        "SECRET_KEY": "build-time-only-" + "x" * 40,
        "ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": "postgres://build:build@localhost:5432/build",
        "REDIS_URL": "redis://localhost:6379/0",
    }
)

from .base import *  # noqa: E402, F403
from .base import DJANGO_APPS, THIRD_PARTY_APPS  # noqa: E402

# The Dockerfile's "collected" stage copies only this package, so that changing an
# app's code does not collect static files again: collectstatic runs without the
# project's apps (they have none), and the admin skips autodiscovery, which would
# import their admin modules.
INSTALLED_APPS = [
    "django.contrib.admin.apps.SimpleAdminConfig" if app == "django.contrib.admin" else app for app in DJANGO_APPS
] + THIRD_PARTY_APPS
AUTH_USER_MODEL = "auth.User"  # users is not installed here; nothing reads users in collectstatic

DEBUG = False
