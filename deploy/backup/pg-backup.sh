#!/bin/sh
# usage: pg-backup.sh
#
# One checked backup of the DesiDeliver database into $BACKUP_DIR (default /backups),
# in the format of scripts/db (pg_dump custom format, desideliver-LABEL-UTCTIME.dump),
# then deletes all but the $BACKUP_KEEP newest (default 14). With BACKUP_INTERVAL
# (seconds) it repeats for ever, a failed run again after BACKUP_RETRY_SECONDS: the
# compose `backup` service; without, it runs once: a Kubernetes CronJob. Runs in the
# PostgreSQL image (POSIX sh, pg_dump, pg_restore).
# Connection: libpq's PGHOST, PGPORT, PGUSER, PGDATABASE, and PGPASSWORD or the
# file PGPASSWORD_FILE names. Each run logs one line: "backup ok ..." on stdout, or
# "backup FAILED ..." on stderr. A dump that cannot be read back in full is deleted,
# never kept as a backup, and the run fails; so does a run whose pg_dump is of an
# older major version than the server, naming the image to use.
# With BACKUP_MEDIA_DIR (the media volume, mounted read-only) each run also archives
# the uploaded images beside the dump (desideliver-LABEL-media-UTCTIME.tar.gz, read
# back before it counts, the same $BACKUP_KEEP kept; scripts/db restore-media takes
# it). With MEDIA_STORAGE=s3 the images are in the bucket, whose versioning or
# replication keeps them (docs/DEPLOY.md, "Media"), and no archive is made.
# With WAL_ARCHIVING=on (the compose stacks: the database image archives its WAL with
# pgBackRest, deploy/postgres) each run first takes a pgBackRest base backup, as the
# postgres user, of the data directory mounted read-only and reached by its socket;
# pgBackRest keeps its own retention (PGBACKREST_REPO1_RETENTION_FULL); with its repository
# in S3-compatible storage the dump and the new media files go to the same bucket too
# (copy_off_server). BACKUPS=off stops
# every backup, with a warning, and keeps the health check green.
# Each good run is recorded in the database it backed up (record_success below), for
# the BackupStale alert; BACKUP_EXPECTED_SECONDS says how often runs are due when
# BACKUP_INTERVAL does not (a CronJob's schedule). Once every BACKUP_DRILL_INTERVAL
# seconds (a week by default; 0: never) a good run also drills its dump (pg-drill.sh,
# beside this script): "drill passed: ..." or "drill FAILED: ...", recorded the same way.
set -eu
umask 0077 # the dumps hold customers' data

dir="${BACKUP_DIR:-/backups}"
keep="${BACKUP_KEEP:-14}"
label="${BACKUP_LABEL:-prod}"
interval="${BACKUP_INTERVAL:-}"
expected="${BACKUP_INTERVAL:-${BACKUP_EXPECTED_SECONDS:-0}}"
drill_every="${BACKUP_DRILL_INTERVAL:-604800}"
retry="${BACKUP_RETRY_SECONDS:-60}"
for setting in "BACKUP_KEEP=$keep" "BACKUP_INTERVAL=$interval" "BACKUP_EXPECTED_SECONDS=$expected" \
  "BACKUP_DRILL_INTERVAL=$drill_every" "BACKUP_RETRY_SECONDS=$retry"; do
  case "${setting#*=}" in
    *[!0-9]*) echo "configuration error: ${setting%%=*} must be a whole number of ${setting%%=*}, got '${setting#*=}'" >&2; exit 2 ;;
  esac
done
[ "$keep" -ge 1 ] || { echo "configuration error: BACKUP_KEEP must be at least 1" >&2; exit 2; }
if [ -n "${PGPASSWORD_FILE:-}" ]; then
  PGPASSWORD="$(cat "$PGPASSWORD_FILE")"
  export PGPASSWORD
fi
# As the container's PID 1 the shell has no default action for SIGTERM: without the trap
# every stop and recreate waited out the stop timeout, then killed a run mid-write. With
# it, a run stops at its next step and the EXIT trap below removes its partial file.
# Pauses are a background sleep and `wait`, which a trapped signal interrupts at once.
trap 'exit 143' TERM INT
pause() { sleep "$1" & wait $!; }
if [ "${BACKUPS:-on}" = off ]; then
  echo "backup WARNING: backups are off (BACKUPS=off): no base backups, no dumps; a lost database volume cannot be restored" >&2
  touch /tmp/backups.off
  [ -z "$interval" ] && exit 0
  while :; do pause 86400; done
fi
mkdir -p "$dir"

partial=""
errors="$(mktemp)"
trap 'rm -f "$errors" "$errors".* ${partial:+"$partial"}' EXIT

step() { # step WHAT COMMAND...: its output goes to $errors; a failure names WHAT
  what="$1"
  shift
  if ! "$@" >"$errors" 2>&1; then
    # The tool's first error line (pg_dump's is followed by the query it ran), else its last.
    reason="$(grep -m 1 -i 'error' "$errors" || tail -n 1 "$errors")"
    failed "$what: $(printf '%s\n' "$reason" | tr -c '[:print:]\n' '?')"
    return 1
  fi
}

failed() {
  rm -f "$partial"
  echo "backup FAILED: $*" >&2
}

# Retention, here and off the server: the names (one a line) beyond the $keep newest.
# The names end in UTC times, so they sort by age.
beyond_the_newest() { LC_ALL=C sort | head -n "-$keep"; }

keep_newest() { # keep_newest FILE...: deletes all but the newest $keep; prints how many stay
  printf '%s\n' "$@" | beyond_the_newest | xargs -r rm -f --
  echo "$(($# < keep ? $# : keep))"
}

# pg_dump refuses a newer server ("server version mismatch"): say which image to run instead.
same_major_version() {
  step "connecting to PostgreSQL" psql -XAtq -c "SHOW server_version_num" || return 1
  server=$(($(cat "$errors") / 10000))
  client="$(pg_dump --version | sed -n 's/^pg_dump (PostgreSQL) \([0-9]*\).*/\1/p')"
  if [ "${client:-0}" -lt "$server" ]; then
    failed "the server is PostgreSQL $server and this image's pg_dump is $client: run the backup on a PostgreSQL $server image (compose: POSTGRES_IMAGE; Helm: backup.image)"
    return 1
  fi
}

backup_once() {
  started="$(date +%s)"
  name="desideliver-$label-$(date -u +%Y%m%dT%H%M%SZ).dump"
  partial="$dir/.$name.partial"
  same_major_version || return 1
  base=""
  # A retry within the interval takes no second base backup: pgBackRest's retention counts
  # full backups, and a run failing every minute would expire a week of them in minutes.
  if [ "${WAL_ARCHIVING:-off}" = on ] && ! younger_than_interval /tmp/base-backup.done; then
    base_backup || return 1
    touch /tmp/base-backup.done
  fi
  step "pg_dump" pg_dump --format=custom --file="$partial" || return 1
  step "the dump cannot be read" pg_restore --list "$partial" || return 1
  if ! grep -q 'TABLE DATA public django_migrations' "$errors" || ! grep -q 'TABLE DATA public users_user ' "$errors"; then
    failed "the dump is not of a DesiDeliver database"
    return 1
  fi
  # Reading every data block finds a truncated or damaged dump.
  step "the dump is damaged" pg_restore --file=/dev/null "$partial" || return 1
  mv "$partial" "$dir/$name"
  partial=""
  kept="$(keep_newest "$dir/desideliver-$label-"*Z.dump)"
  media=""
  if [ -n "${BACKUP_MEDIA_DIR:-}" ] && [ "${MEDIA_STORAGE:-local}" != "s3" ]; then
    backup_media || return 1
  fi
  offsite=""
  if [ "${PGBACKREST_REPO1_TYPE:-posix}" = s3 ]; then
    copy_off_server || return 1
  fi
  echo "backup ok $dir/$name $(wc -c <"$dir/$name" | tr -d ' ') bytes${base}${media}${offsite} in $(($(date +%s) - started)) s; $kept kept"
  touch /tmp/backup.ok # the health check reads its age
  record_success
  drill_if_due "$dir/$name"
}

# The last good run's time and the interval runs are due at, in a table of its own in
# the database just backed up: the Celery worker serves them to Prometheus
# (desideliver_backup_*, desideliver_backend/metrics.py), whose BackupStale alert fires
# after two intervals without one. Not recording is logged; the backup stands.
record_success() {
  if ! psql -XAtq -v ON_ERROR_STOP=1 -v label="$label" -v expected="$expected" >"$errors" 2>&1 <<'SQL'; then
CREATE TABLE IF NOT EXISTS backup_status (
  label text PRIMARY KEY,
  succeeded_at timestamptz NOT NULL,
  interval_seconds integer NOT NULL
);
INSERT INTO backup_status VALUES (:'label', now(), :'expected')
ON CONFLICT (label) DO UPDATE SET succeeded_at = excluded.succeeded_at, interval_seconds = excluded.interval_seconds;
SQL
    echo "backup WARNING: the run is not recorded in PostgreSQL: $(tail -n 1 "$errors")" >&2
  fi
}

# Due when no drill is recorded for this label within BACKUP_DRILL_INTERVAL, judged by the
# database: the compose loop and a CronJob's single runs alike. A drill that cannot run at
# all (a managed database's user without CREATEDB) fails the same loud way.
drill_if_due() { # drill_if_due DUMP
  [ "$drill_every" -gt 0 ] || return 0
  due="$(psql -XAtq -v ON_ERROR_STOP=1 -v label="$label" -v every="$drill_every" 2>"$errors" <<'SQL'
SELECT to_regclass('backup_drill') IS NULL
  OR NOT EXISTS (SELECT FROM backup_drill WHERE label = :'label'
                 AND greatest(succeeded_at, failed_at) > now() - make_interval(secs => :'every'))
SQL
)" || due=t
  [ "$due" = t ] || return 0
  passed=true
  if ! sh "$(dirname "$0")/pg-drill.sh" "$1" >"$errors.drill" 2>&1; then
    passed=false
    echo "drill FAILED: $(tail -n 1 "$errors.drill" | sed 's/^drill failed: //' | tr -c '[:print:]\n' '?')" >&2
  fi
  took="$(sed -n 's/^drill passed: .*the restore took \([0-9]*\) s$/\1/p' "$errors.drill")"
  [ "$passed" = false ] || tail -n 1 "$errors.drill"
  rm -f "$errors.drill"
  if ! psql -XAtq -v ON_ERROR_STOP=1 -v label="$label" -v passed="$passed" -v took="$took" \
    -v every="$drill_every" >"$errors" 2>&1 <<'SQL'; then
CREATE TABLE IF NOT EXISTS backup_drill (
  label text PRIMARY KEY,
  succeeded_at timestamptz,
  failed_at timestamptz,
  restore_seconds integer,
  interval_seconds integer NOT NULL
);
INSERT INTO backup_drill
VALUES (:'label', CASE WHEN :'passed'::boolean THEN now() END, CASE WHEN NOT :'passed'::boolean THEN now() END,
        nullif(:'took', '')::integer, :'every')
ON CONFLICT (label) DO UPDATE SET
  succeeded_at = coalesce(excluded.succeeded_at, backup_drill.succeeded_at),
  failed_at = coalesce(excluded.failed_at, backup_drill.failed_at),
  restore_seconds = coalesce(excluded.restore_seconds, backup_drill.restore_seconds),
  interval_seconds = excluded.interval_seconds;
SQL
    echo "backup WARNING: the drill is not recorded in PostgreSQL: $(tail -n 1 "$errors")" >&2
  fi
}

# With pgBackRest's repository in S3-compatible storage, the dump goes off the server too,
# into the same bucket under REPO_PATH/dumps/ (encrypted with the repository's passphrase
# when it has one: openssl's AES-256-CBC with a PBKDF2 key, docs/DEPLOY.md says how to
# read it back), the BACKUP_KEEP newest kept there; and the media files not yet there,
# one object each under REPO_PATH/media/ (their names are random and never reused: what
# is there already is what is here). s3-object is the database image's (deploy/postgres).
copy_off_server() {
  prefix="${PGBACKREST_REPO1_PATH:-/var/lib/pgbackrest}"
  prefix="${prefix#/}"
  dumps="${prefix:+$prefix/}dumps"
  object="$dumps/$name"
  upload="$dir/$name"
  if [ -n "${PGBACKREST_REPO1_CIPHER_PASS:-}" ]; then
    object="$object.enc"
    partial="$dir/.$name.enc.partial"
    step "encrypting the dump" openssl enc -aes-256-cbc -pbkdf2 -iter 100000 -salt \
      -pass env:PGBACKREST_REPO1_CIPHER_PASS -in "$dir/$name" -out "$partial" || return 1
    upload="$partial"
  fi
  step "copying the dump off the server" s3-object put "$upload" "$object" || return 1
  rm -f "$partial"
  partial=""
  step "listing the dumps off the server" s3-object list "$dumps/desideliver-$label-" || return 1
  grep -E "^$dumps/desideliver-$label-[0-9TZ]+\.dump(\.enc)?\$" "$errors" | beyond_the_newest >"$errors.keys" || true
  while IFS= read -r key; do
    step "deleting an old dump off the server" s3-object delete "$key" </dev/null || return 1
  done <"$errors.keys"
  offsite=", copied to s3://$PGBACKREST_REPO1_S3_BUCKET/$object"
  if [ -n "${BACKUP_MEDIA_DIR:-}" ] && [ "${MEDIA_STORAGE:-local}" != "s3" ]; then
    copy_media_off_server "${prefix:+$prefix/}media" || return 1
  fi
}

copy_media_off_server() { # copy_media_off_server KEY-PREFIX
  step "listing the media off the server" s3-object list "$1/" || return 1
  mv "$errors" "$errors.keys"
  (cd "$BACKUP_MEDIA_DIR" && find . -type f | sed 's|^\./||') >"$errors.files"
  new=0
  while IFS= read -r file; do
    grep -qxF "$1/$file" "$errors.keys" && continue
    step "copying $file off the server" s3-object put "$BACKUP_MEDIA_DIR/$file" "$1/$file" </dev/null || return 1
    new=$((new + 1))
  done <"$errors.files"
  offsite="$offsite, $new new media files to s3://$PGBACKREST_REPO1_S3_BUCKET/$1/"
}

younger_than_interval() { # younger_than_interval FILE: it exists, touched within BACKUP_INTERVAL
  [ -n "$interval" ] && [ -f "$1" ] && [ $(($(date +%s) - $(stat -c %Y "$1"))) -lt "$interval" ]
}

# A full backup each run: the restore needs no chain of increments, and pgBackRest expires
# the oldest fulls (and the WAL only they need) past its retention.
base_backup() {
  step "pgBackRest stanza" as-postgres pgbackrest stanza-create || return 1
  step "pgBackRest base backup" as-postgres pgbackrest backup --type=full || return 1
  step "pgBackRest info" as-postgres pgbackrest info || return 1
  base=", base backup $(sed -n 's/^ *full backup: \([^ ]*\).*/\1/p' "$errors" | tail -n 1)"
}

backup_media() {
  archive="desideliver-$label-media-$(date -u +%Y%m%dT%H%M%SZ).tar.gz"
  partial="$dir/.$archive.partial"
  step "archiving $BACKUP_MEDIA_DIR" tar -C "$BACKUP_MEDIA_DIR" -czf "$partial" . || return 1
  step "the media archive cannot be read" tar -tzf "$partial" || return 1
  mv "$partial" "$dir/$archive"
  partial=""
  keep_newest "$dir/desideliver-$label-media-"*Z.tar.gz >/dev/null
  media=", media $dir/$archive $(wc -c <"$dir/$archive" | tr -d ' ') bytes"
}

if [ -z "$interval" ]; then
  backup_once
  exit
fi
# A new stack's first run would find the database before the backend has migrated it
# (and fail, for a day): the schedule starts once the shop's tables are there.
said=""
while :; do
  tables="$(psql -XAtq -c "SELECT to_regclass('public.users_user') IS NOT NULL" 2>"$errors")" || tables=""
  case "$tables" in
    t) break ;;
    f) why="the database has no DesiDeliver tables yet (the backend's migrations make them)" ;;
    *) why="cannot reach PostgreSQL: $(tail -n 1 "$errors" | tr -c '[:print:]\n' '?')" ;;
  esac
  [ "$why" = "$said" ] || echo "backup waiting: $why" >&2
  said="$why"
  pause 5
done
# A failed run is tried again after BACKUP_RETRY_SECONDS (60), not a whole interval later:
# a dump that raced a migration (a new stack's first run, a deploy during the nightly
# one) or a network blip must not leave a day without a backup. Each failure is logged;
# the health check turns unhealthy when none succeeds for two intervals.
while :; do
  if backup_once; then
    pause "$interval"
  else
    pause "$((retry < interval ? retry : interval))"
  fi
done
