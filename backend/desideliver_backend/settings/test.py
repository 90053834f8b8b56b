"""Tests: local settings against the same PostgreSQL and Redis, made fast and isolated."""

from desideliver_backend import env

from .local import *  # noqa: F403
from .local import CACHES, REDIS_PASSWORD

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests clear only their own keys, never a developer's cached catalogue.
CACHES = {alias: {**cache, "KEY_PREFIX": "desideliver-test"} for alias, cache in CACHES.items()}
# Most tests run tasks inline; tests/api/notifications runs a real worker on the real
# broker, in a Redis database of its own so the dev stack's worker never takes its tasks.
CELERY_BROKER_URL = env.redis_url_for_database(CACHES["default"]["LOCATION"], 3, REDIS_PASSWORD)
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
