#!/usr/bin/env bash
# usage: pgbackrest-entrypoint.sh [postgres [ARGS...] | COMMAND...]
#
# The database image's entrypoint (deploy/postgres/Dockerfile): readies pgBackRest's
# settings, then hands over to the official image's docker-entrypoint.sh.
# - PGBACKREST_REPO1_{CIPHER_PASS,S3_KEY,S3_KEY_SECRET,S3_TOKEN}_FILE: the secret read from
#   a file (Docker secrets). Empty PGBACKREST_* variables are dropped:
#   compose passes unset settings as empty strings, which pgBackRest refuses.
# - A passphrase (PGBACKREST_REPO1_CIPHER_PASS) turns on the repository's AES-256 encryption.
# - The stanza is this database: its data directory and its superuser.
# - WAL_ARCHIVING=on: `postgres` hands every finished WAL segment to pgBackRest, and
#   switches segments at least every ARCHIVE_TIMEOUT seconds (default 60): at most that
#   much of the acknowledged writes is lost with the database volume. The backup service
#   creates the stanza (deploy/backup/pg-backup.sh; one creator: two at once can leave a
#   repository half made); until then PostgreSQL keeps the segments and retries.
set -euo pipefail

fail() {
  echo "configuration error: $*" >&2
  exit 2
}

# pgBackRest's own options that end in _FILE (repo1-storage-ca-file) name files already.
for option in PGBACKREST_REPO1_CIPHER_PASS PGBACKREST_REPO1_S3_KEY PGBACKREST_REPO1_S3_KEY_SECRET PGBACKREST_REPO1_S3_TOKEN; do
  secret="${option}_FILE"
  file="${!secret:-}"
  unset "$secret"
  [[ -n "$file" ]] || continue
  [[ -r "$file" ]] || fail "$secret names $file, which cannot be read"
  value="$(<"$file")"
  if [[ -n "$value" ]]; then
    export "$option=$value"
  fi
done
for variable in $(compgen -e); do
  if [[ "$variable" == PGBACKREST_* && -z "${!variable}" ]]; then
    unset "$variable"
  fi
done
if [[ -n "${PGBACKREST_REPO1_CIPHER_PASS:-}" ]]; then
  export PGBACKREST_REPO1_CIPHER_TYPE="${PGBACKREST_REPO1_CIPHER_TYPE:-aes-256-cbc}"
fi
export PGBACKREST_STANZA="${PGBACKREST_STANZA:-desideliver}"
export PGBACKREST_PG1_PATH="${PGBACKREST_PG1_PATH:-$PGDATA}"
export PGBACKREST_PG1_USER="${PGBACKREST_PG1_USER:-${POSTGRES_USER:-postgres}}"

archiving="${WAL_ARCHIVING:-off}"
archive_timeout="${ARCHIVE_TIMEOUT:-60}"
[[ "$archiving" == on || "$archiving" == off ]] || fail "WAL_ARCHIVING must be on or off, got '$archiving'"
[[ "$archive_timeout" =~ ^[1-9][0-9]*$ ]] || fail "ARCHIVE_TIMEOUT must be a whole number of seconds, got '$archive_timeout'"
if [[ "${1:-}" == postgres && "$archiving" == on ]]; then
  set -- "$@" -c wal_level=replica -c archive_mode=on -c "archive_command=pgbackrest archive-push %p" \
    -c "archive_timeout=$archive_timeout"
fi
exec docker-entrypoint.sh "$@"
