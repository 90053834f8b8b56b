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

DEBUG = False
