"""What every server process of the image does first, in the process that then becomes
the server: stop at once if told to while starting, set Django up and ready the database.

As a container's PID 1 a process gets no signal its code has not asked for: a SIGTERM
that arrived before Gunicorn or Celery installed their handlers (while Python imported
Django, or waited for PostgreSQL) was dropped, and the stop waited out the container's
grace period, 30 s for a replica and 100 s for a worker, before the engine killed it. A
`docker compose up -d` that recreated a service seconds after it started hit that window
(tests/stack/test_prod_stack.py, test_a_stop_while_starting_is_not_ignored). Before
this process, the entrypoint's shell traps the same signals; between the two, the
interpreter's own start (about 20 ms) still drops one, which only an init process as
PID 1 would close.
"""

import os
import signal
import sys


def exit_on_stop_signals() -> None:
    """Until the server installs its own handlers: SIGTERM or SIGINT ends the process."""

    def stop(signum, frame):
        sys.exit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)


def ready_database(*prepare_options: str) -> None:
    """Django set up, `manage.py prepare_database PREPARE_OPTIONS` run, and no PostgreSQL
    session left open for the processes the server forks."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desideliver_backend.settings.production")
    import django
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db import connections

    django.setup()
    try:
        call_command("prepare_database", *prepare_options)
    except CommandError as error:
        sys.exit(f"CommandError: {error}")
    connections.close_all()
