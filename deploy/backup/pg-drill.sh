#!/bin/sh
# usage: pg-drill.sh DUMP   (a pg_dump custom-format file, or - to read it from stdin)
#
# The restore drill: restores DUMP into a scratch database beside the live one, checks
# that this release can run on it (every migration it records is one the live database
# has), prints the row counts of the shop's main tables in both, the recovery point (the
# dump's own time) and how long the restore took, and drops the scratch database however
# it ends. Prints "drill passed: ..." last, or one "drill failed: ..." line on stderr and
# exits 1; the live database is only read.
# Run by `scripts/db drill` inside the db container, and by the backup service's weekly
# schedule (pg-backup.sh, BACKUP_DRILL_INTERVAL). Connection: libpq's PG* variables, or
# the official image's POSTGRES_USER and POSTGRES_DB. DRILL_SOURCE names the dump in the
# messages, DRILL_RECOVERY_POINT gives its time (needed when it comes on stdin).
set -eu

dump="${1:?usage: pg-drill.sh DUMP (a file, or - for stdin)}"
PGUSER="${PGUSER:-${POSTGRES_USER:-postgres}}"
PGDATABASE="${PGDATABASE:-${POSTGRES_DB:-$PGUSER}}"
export PGUSER PGDATABASE
source_name="${DRILL_SOURCE:-$dump}"

# The shop's own records, whose row counts the drill compares.
tables="users_user users_address products_product orders_order orders_orderitem tickets_ticket notifications_outboxemail"

work="$(mktemp -d)"
scratch=""
finish() {
  [ -z "$scratch" ] || psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS $scratch WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap finish EXIT
trap 'exit 130' INT TERM

failed() {
  echo "drill failed: $*" >&2
  exit 1
}
last_error() { tail -n 1 "$work/errors" | tr -c '[:print:]\n' '?'; }
query() { # query DATABASE SQL: unaligned rows, fields split by a space
  psql -XAt -F' ' -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

point="${DRILL_RECOVERY_POINT:-}"
if [ -z "$point" ] && [ "$dump" != - ]; then
  pg_restore --list "$dump" >"$work/contents" 2>"$work/errors" ||
    failed "$source_name is not a readable pg_dump archive: $(last_error)"
  point="$(sed -n 's/^;[[:space:]]*Archive created at //p' "$work/contents")"
fi

name="desideliver_drill_$(date -u +%Y%m%d%H%M%S)_$$"
query postgres "CREATE DATABASE $name" >/dev/null 2>"$work/errors" ||
  failed "cannot create a scratch database: $(last_error)"
scratch="$name"
started="$(date +%s)"
if [ "$dump" = - ]; then set --; else set -- "$dump"; fi
pg_restore --no-owner --no-privileges --single-transaction --exit-on-error -d "$scratch" "$@" 2>"$work/errors" ||
  failed "$source_name did not restore into a scratch database: $(last_error)"
took=$(($(date +%s) - started))
echo "restored $source_name (made $point) into the scratch database $scratch in $took s"

migrations() { # migrations DATABASE: "app.name" lines, in the C locale's order for comm
  query "$1" "SELECT app || '.' || name FROM django_migrations" | LC_ALL=C sort
}
migrations "$scratch" >"$work/backup" 2>"$work/errors" || failed "the restored database has no migration table: $(last_error)"
migrations "$PGDATABASE" >"$work/live"
[ -s "$work/backup" ] || failed "the restored database records no migration"
# Every migration the backup recorded is one this release has: otherwise the backup comes
# from a newer release, or another branch, and this code cannot run on it.
unknown="$(LC_ALL=C comm -23 "$work/backup" "$work/live" | paste -sd, -)"
[ -z "$unknown" ] || failed "the backup has migrations this database does not: $unknown"
behind="$(LC_ALL=C comm -13 "$work/backup" "$work/live" | wc -l)"

counts() { # counts DATABASE: a "table rows" line per table, sorted for join
  sql=""
  for table in $tables; do
    sql="$sql${sql:+ UNION ALL }SELECT '$table', count(*) FROM $table"
  done
  query "$1" "$sql" | LC_ALL=C sort
}
counts "$scratch" >"$work/backup-counts"
counts "$PGDATABASE" >"$work/live-counts"
printf '%-28s %10s %10s\n' table backup live
LC_ALL=C join "$work/backup-counts" "$work/live-counts" | awk '{ printf "%-28s %10d %10d\n", $1, $2, $3 }'
echo "migrations: $behind applied since the backup (a restore would need them run again)"
echo "drill passed: recovery point $point; the restore took $took s"
