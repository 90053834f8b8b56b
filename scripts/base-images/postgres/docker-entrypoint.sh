#!/usr/bin/env bash
# usage: docker-entrypoint.sh [postgres [ARGS...] | -ARGS... | COMMAND...]
# Initialises PGDATA on first start from POSTGRES_USER, POSTGRES_PASSWORD (or
# POSTGRES_PASSWORD_FILE) and POSTGRES_DB, runs /docker-entrypoint-initdb.d/*.sql|*.sh, then execs postgres.
# As the official image does (docker-library/postgres docker-entrypoint.sh): as root it
# creates the directories and hands them over with `find ... \! -user postgres -exec
# chown postgres '{}' +` under `set -e`, then drops to postgres.
set -Eeuo pipefail

if [[ "${1:-}" == -* ]]; then
  set -- postgres "$@"
fi
if [[ "${1:-}" != postgres ]]; then
  exec "$@"
fi

# Docker secrets: the password may come from a file, read while still root (file_env).
if [[ -n "${POSTGRES_PASSWORD_FILE:-}" ]]; then
  if [[ -n "${POSTGRES_PASSWORD:-}" ]]; then
    echo "error: both POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are set (but are exclusive)" >&2
    exit 1
  fi
  POSTGRES_PASSWORD="$(<"$POSTGRES_PASSWORD_FILE")"
  export POSTGRES_PASSWORD
  unset POSTGRES_PASSWORD_FILE
fi

if [[ "$(id -u)" == 0 ]]; then
  mkdir -p "$PGDATA"
  chmod 00700 "$PGDATA" || :
  mkdir -p /var/run/postgresql || :
  chmod 03775 /var/run/postgresql || :
  find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
  find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  : "${POSTGRES_USER:=postgres}"
  : "${POSTGRES_DB:=$POSTGRES_USER}"
  if [[ -z "${POSTGRES_PASSWORD:-}" ]]; then
    echo "error: database is uninitialized and POSTGRES_PASSWORD is not set" >&2
    exit 1
  fi
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"

  # The temporary server gets the command's settings too (an archive_command included), as
  # the official image's docker_temp_server_start does.
  pg_ctl -D "$PGDATA" -o "$(printf '%q ' "${@:2}" -c listen_addresses=)" -w start >/dev/null
  psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --dbname postgres)
  if [[ "$POSTGRES_DB" != postgres ]]; then
    "${psql[@]}" -q --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh)
        echo "running $f"
        # shellcheck source=/dev/null
        . "$f"
        ;;
      *.sql) echo "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) echo "running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@" -c listen_addresses='*'
