"""Readies the database, then becomes the Gunicorn master, in one process.

usage: python -m desideliver_backend.runtime.gunicorn_start [PREPARE_DATABASE_OPTION...] [-- GUNICORN_OPTION...]

The production image's `gunicorn` command (scripts/docker-entrypoint.sh). Gunicorn
loads the app in its master before it forks the workers (preload_app), so the
Django this process set up for prepare_database is the one they run. As two
processes, a replica paid for starting Python and Django twice: about 1.5 s alone,
3 to 4 s when every replica starts at once on two CPUs, as `docker compose restart
backend` makes them, while the edge holds the requests that find no replica
listening (deploy/caddy/Caddyfile, lb_try_duration).
"""

import os
import sys


def main(argv: list[str]) -> None:
    split = argv.index("--") if "--" in argv else len(argv)
    prepare_options, gunicorn_options = argv[:split], argv[split + 1 :]

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
    # The workers fork from this process: none may share its PostgreSQL sessions.
    connections.close_all()

    from gunicorn.app.wsgiapp import run

    from desideliver_backend.runtime import gunicorn_conf

    sys.argv = [
        "gunicorn",
        "--config",
        f"python:{gunicorn_conf.__name__}",
        "desideliver_backend.wsgi",
        *gunicorn_options,
    ]
    run()


if __name__ == "__main__":
    main(sys.argv[1:])
