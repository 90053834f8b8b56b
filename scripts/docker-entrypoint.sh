#!/usr/bin/env bash
# usage: docker-entrypoint.sh gunicorn|dev-server|celery-worker|celery-beat|celery-flower [ARGS...]
#        docker-entrypoint.sh COMMAND [ARGS...]
#
# Before a server starts: waits for PostgreSQL (DB_WAIT_SECONDS, default 60),
# applies migrations under a PostgreSQL advisory lock so replicas can start
# together (DJANGO_MIGRATE_ON_START=false leaves that to a one-off job), and
# creates the superuser named by DJANGO_SUPERUSER_EMAIL/_PASSWORD if it is missing
# (manage.py prepare_database; for gunicorn, inside its master process). The Celery
# worker and beat wait for the migrations, inside their own process too.
# Any other command (pytest, manage.py ..., bash) runs as it is.
#
# Development: started as root with APP_ADOPT_OWNER_OF=/workspace, it first gives the
# app user the uid and gid that own that directory (the bind-mounted checkout: 1000,
# another uid, or root), then runs everything as that user, so files written in the
# checkout belong to whoever owns it on the host.
set -euo pipefail

if [[ $# -eq 0 ]]; then
  sed -n '2,3p' "$0" >&2
  exit 2
fi

# As a container's PID 1 the shell gets no signal it has not trapped: a stop that lands
# before the exec below ends the start here, as the server's start-up does once it runs
# (desideliver_backend/runtime/startup.py), instead of waiting out the grace period.
trap 'exit 143' TERM
trap 'exit 130' INT

adopt_owner_of() { # adopt_owner_of DIR: the app user takes DIR's owner's uid and gid
  local uid gid
  uid="$(stat -c %u "$1")"
  gid="$(stat -c %g "$1")"
  if [[ "$(id -g app)" != "$gid" ]]; then
    groupmod --non-unique --gid "$gid" app
  fi
  if [[ "$(id -u app)" == "$uid" ]]; then
    return
  fi
  if [[ "$uid" == 0 ]]; then
    # Root needs no ownership to write in the home, and leaving it as it is keeps it
    # writable for a command the Dev Containers CLI may already have started as uid
    # 1000 (usermod would chown it): only the passwd entry changes.
    sed -i -E "s/^app:([^:]*):[0-9]+:[0-9]+:/app:\1:0:$gid:/" /etc/passwd
  else
    usermod --non-unique --uid "$uid" --gid "$gid" app
    chown -R app:app /home/app
  fi
}

if [[ "$(id -u)" == 0 && -n "${APP_ADOPT_OWNER_OF:-}" ]]; then
  [[ -d "$APP_ADOPT_OWNER_OF" ]] || { echo "error: APP_ADOPT_OWNER_OF=$APP_ADOPT_OWNER_OF is not a directory" >&2; exit 1; }
  adopt_owner_of "$APP_ADOPT_OWNER_OF"
  HOME=/home/app exec setpriv --reuid=app --regid=app --init-groups env -u APP_ADOPT_OWNER_OF "$0" "$@"
fi

# Gunicorn reads WEB_CONCURRENCY before its config file can check it, and would
# answer a typo with a traceback.
if [[ "$1" == gunicorn && -n "${WEB_CONCURRENCY:-}" && ! "$WEB_CONCURRENCY" =~ ^[0-9]+$ ]]; then
  echo "configuration error: WEB_CONCURRENCY must be a whole number, got '$WEB_CONCURRENCY' (see .env.example)" >&2
  exit 1
fi

case "$1" in
  gunicorn | dev-server | celery-worker | celery-beat | celery-flower)
    if [[ ! -f manage.py ]]; then
      echo "error: no manage.py in $PWD: the development image runs the checkout mounted at /workspace" \
        "(docker compose up, or docker run -v \"\$PWD\":/workspace ...)" >&2
      exit 1
    fi
    ;;
esac

prepare_options=()
if [[ "${DJANGO_MIGRATE_ON_START:-true}" != true ]]; then
  prepare_options=(--wait-only)
fi

if [[ "$1" == dev-server ]]; then
  python manage.py prepare_database "${prepare_options[@]}"
fi

# Gunicorn and the Celery worker run several processes, each counting on its own: every
# process writes its Prometheus counts to files in this directory, and the service sums
# them when scraped (desideliver_backend/metrics.py). Emptied at each start: a pod's /tmp
# outlives a restarted container, and an old run's files would be summed with this one's.
case "$1" in
  gunicorn | celery-worker)
    export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/metrics}"
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -delete
    ;;
esac

case "$1" in
  gunicorn)
    shift
    # prepare_database, then Gunicorn, in one process: desideliver_backend/runtime/gunicorn_start.py says why.
    exec python -m desideliver_backend.runtime.gunicorn_start "${prepare_options[@]}" -- "$@"
    ;;
  celery-worker)
    shift
    # The migrations waited for, then the worker, in one process: desideliver_backend/runtime/celery_start.py.
    worker=(python -m desideliver_backend.runtime.celery_start worker --loglevel "${LOG_LEVEL:-INFO}" --concurrency "${CELERY_CONCURRENCY:-2}" "$@")
    if [[ "${CELERY_WORKER_RELOAD:-false}" == true ]]; then # development: restart on every saved .py file
      exec watchfiles --filter python "${worker[*]}" .
    fi
    exec "${worker[@]}"
    ;;
  celery-beat)
    shift
    # No pidfile: a stale one left by a killed container can never stop the next start.
    exec python -m desideliver_backend.runtime.celery_start beat --loglevel "${LOG_LEVEL:-INFO}" --pidfile= "$@"
    ;;
  celery-flower)
    shift
    # Flower shows every task and can restart or stop workers: never without a login,
    # unless FLOWER_UNAUTHENTICATED=true says only this machine reaches it (the
    # development stack publishes it on 127.0.0.1). Flower reads FLOWER_BASIC_AUTH itself.
    if [[ -n "${FLOWER_BASIC_AUTH_FILE:-}" ]]; then
      FLOWER_BASIC_AUTH="$(<"$FLOWER_BASIC_AUTH_FILE")"
      export FLOWER_BASIC_AUTH
    fi
    if [[ -z "${FLOWER_BASIC_AUTH:-}" && "${FLOWER_UNAUTHENTICATED:-false}" != true ]]; then
      echo "configuration error: FLOWER_BASIC_AUTH is not set: Flower needs a login, user:password (or FLOWER_BASIC_AUTH_FILE; see deploy/production.env.example)" >&2
      exit 1
    fi
    if [[ -n "${FLOWER_BASIC_AUTH:-}" && ! "$FLOWER_BASIC_AUTH" =~ ^[^:,]+:[^,]{12,}(,[^:,]+:[^,]{12,})*$ ]]; then
      echo "configuration error: FLOWER_BASIC_AUTH must be user:password (comma-separated for several), each password 12 characters or more" >&2
      exit 1
    fi
    exec celery -A desideliver_backend.runtime.celery flower --address=0.0.0.0 --port=5555 "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
