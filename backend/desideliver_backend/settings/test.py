"""Tests: local settings against the same PostgreSQL and Redis, made fast and isolated."""

from .local import *  # noqa: F403
from .local import CACHES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests clear only their own keys, never a developer's cached catalogue.
CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": "desideliver-test"}}
