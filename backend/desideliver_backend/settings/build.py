"""Image build steps (collectstatic): production's static pipeline, no secrets, no services."""

import os

os.environ.setdefault("SECRET_KEY", "build-time-only-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "localhost")
os.environ.setdefault("DATABASE_URL", "postgres://build:build@localhost:5432/build")
os.environ.setdefault("REDIS_URL", "redis://localhost:6379/0")

from .base import *  # noqa: F403

DEBUG = False
