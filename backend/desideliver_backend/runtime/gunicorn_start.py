"""Readies the database, then becomes the Gunicorn master, in one process.

usage: python -m desideliver_backend.runtime.gunicorn_start [PREPARE_DATABASE_OPTION...] [-- GUNICORN_OPTION...]

The production image's `gunicorn` command (scripts/docker-entrypoint.sh). Gunicorn
loads the app in its master before it forks the workers (preload_app), so the
Django this process set up for prepare_database is the one they run. As two
processes, a replica paid for starting Python and Django twice: about 1.5 s alone,
3 to 4 s when every replica starts at once on two CPUs, as `docker compose restart
backend` makes them, while the edge holds the requests that find no replica
listening (deploy/caddy/Caddyfile, lb_try_duration). A stop while starting: startup.py.
"""

import sys

from desideliver_backend.runtime import startup


def main(argv: list[str]) -> None:
    startup.exit_on_stop_signals()
    split = argv.index("--") if "--" in argv else len(argv)
    prepare_options, gunicorn_options = argv[:split], argv[split + 1 :]
    startup.ready_database(*prepare_options)

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
