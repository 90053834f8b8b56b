"""Waits for the backend's migrations, then becomes the Celery worker or beat, in one process.

usage: python -m desideliver_backend.runtime.celery_start worker|beat [CELERY_OPTION...]

The production image's `celery-worker` and `celery-beat` commands (scripts/docker-
entrypoint.sh): never against an older schema, so they wait until the backend (or a
job) has migrated. One process, not `manage.py prepare_database` and then `celery`:
Python and Django start once, and a stop while starting ends it at once (startup.py).
"""

import sys

from desideliver_backend.runtime import startup


def main(argv: list[str]) -> None:
    startup.exit_on_stop_signals()
    startup.ready_database("--wait-for-migrations")

    from celery.__main__ import main as celery_main

    sys.argv = ["celery", "-A", "desideliver_backend.runtime.celery", *argv]
    celery_main()


if __name__ == "__main__":
    main(sys.argv[1:])
