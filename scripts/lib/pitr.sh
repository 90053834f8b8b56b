# shellcheck shell=bash
# shellcheck disable=SC2154 # compose and stack: scripts/db sets them before sourcing this
# Sourced by scripts/db: point-in-time recovery from pgBackRest's repository (the base
# backups the backup service takes and the WAL the database archives; deploy/postgres).
#
# A restore always goes first into a scratch volume, where a throwaway PostgreSQL replays
# the WAL up to the target and is asked what it recovered: a wrong passphrase, a damaged
# archive or an empty repository stops there, with pgBackRest's one-line reason, and the
# live database is not touched. With --yes the same restore then goes into the live
# volume (pgBackRest's delta restore, the services that use the database stopped), and
# the stack starts on it: the database replays, promotes, and archives the new timeline.
# Uses scripts/db's compose, die, last_line and scratch_volume.

# The services that hold database connections, stopped while the live volume is restored.
pitr_clients=(backend worker beat flower backup pooler postgres-exporter)

# pitr_target latest|TIME: pgBackRest's restore options for it, into pitr_options.
pitr_options=()
pitr_target() {
  if [[ "$1" == latest ]]; then
    pitr_options=(--type=default)
    return
  fi
  local utc
  utc="$(date -u -d "$1" '+%Y-%m-%d %H:%M:%S.%N+00' 2>/dev/null)" ||
    die "--to needs a time such as \"2026-12-02 10:15:00\" (UTC unless it says otherwise), got '$1'"
  pitr_options=(--type=time "--target=$utc" --target-action=promote)
}

# pitr_in_db_container SCRIPT [VOLUME:PATH] ARGS...: runs SCRIPT with bash, as root, in a
# one-off container of the db service (its image, volumes, pgBackRest settings, secrets).
pitr_in_db_container() {
  local script="$1" mount=()
  shift
  if [[ "${1:-}" == *:/* ]]; then
    mount=(--volume "$1")
    shift
  fi
  "${compose[@]}" run --rm --no-deps -T --user 0 "${mount[@]}" --entrypoint pgbackrest-entrypoint.sh db \
    bash -c "$script" restore "$@" 2>&1
}

# Restores into DIRECTORY ("live": the database's own), as the files' owner. Arguments:
# DIRECTORY, then pgBackRest's options.
# shellcheck disable=SC2016 # expanded in the container
pitr_restore_into='
  directory="$1"
  [ "$directory" != live ] || directory="$PGDATA"
  install -d -o postgres -g postgres -m 0700 "$directory"
  as-postgres pgbackrest restore --pg1-path="$directory" "${@:2}" || exit 1
'

# The scratch database's check: start it on the restored files (no archiving, no TCP),
# wait for the end of recovery, report the last transaction replayed and the orders.
# shellcheck disable=SC2016 # expanded in the container
pitr_verify='
  query() { as-postgres psql -XAtq -h /tmp -p 5499 -U "$PGBACKREST_PG1_USER" -d "$POSTGRES_DB" -c "$1"; }
  failed() { tail -n 5 /tmp/scratch.log; exit 1; }
  as-postgres pg_ctl -D "$directory" -w -t 600 -l /tmp/scratch.log \
    -o "-c archive_mode=off -c listen_addresses= -c unix_socket_directories=/tmp -p 5499" start >/dev/null || failed
  for _ in $(seq 600); do
    in_recovery="$(query "SELECT pg_is_in_recovery()")" || failed
    [ "$in_recovery" = f ] && break
    sleep 1
  done
  [ "$in_recovery" = f ] || failed
  echo "recovery point: $(query "SELECT coalesce(pg_last_xact_replay_timestamp()::text, '"'"'the end of the base backup'"'"')")"
  echo "orders: $(query "SELECT count(*) FROM orders_order")"
  as-postgres pg_ctl -D "$directory" -w -m fast stop >/dev/null
'

# The line an operator needs from a failed restore: pgBackRest's ERROR, else the last one.
pitr_reason() {
  local reason
  reason="$(grep -m 1 -E 'ERROR:|FATAL:' <<<"$1" || true)"
  last_line "${reason:-$1}"
}

cmd_restore_pitr() { # cmd_restore_pitr latest|TIME [--yes]
  local output service restart=() stopped=()
  [[ "$stack" == prod ]] ||
    die "point-in-time restore is the production stack's (scripts/db --prod restore ...): the development database archives no WAL"
  [[ -z "${2:-}" || "$2" == --yes ]] || die "usage: scripts/db --prod restore --latest|--to TIME [--yes]"
  pitr_target "$1"
  scratch_volume="desideliver-restore-$(date -u +%Y%m%d%H%M%S)-$$"
  docker volume create --label desideliver.restore=scratch "$scratch_volume" >/dev/null
  SECONDS=0
  output="$(pitr_in_db_container "$pitr_restore_into $pitr_verify" "$scratch_volume:/restore" /restore/data \
    "${pitr_options[@]}")" || die "restore failed, the live database is untouched: $(pitr_reason "$output")"
  grep -E '^(recovery point|orders):' <<<"$output"
  echo "restored into a scratch volume and checked in ${SECONDS} s"
  if [[ "${2:-}" != --yes ]]; then
    echo "the live database is unchanged; run again with --yes to restore it there"
    return
  fi
  for service in "${pitr_clients[@]}" db; do
    if [[ -n "$("${compose[@]}" ps --status running -q "$service" 2>/dev/null)" ]]; then
      stopped+=("$service")
      [[ "$service" == db ]] || restart+=("$service")
    fi
  done
  echo "stopping ${stopped[*]:-nothing}; restoring the live database"
  [[ ${#stopped[@]} -eq 0 ]] || "${compose[@]}" stop "${stopped[@]}" >/dev/null 2>&1
  output="$(pitr_in_db_container "$pitr_restore_into" live --delta "${pitr_options[@]}")" ||
    die "restoring the live database failed (it is stopped; run the restore again): $(pitr_reason "$output")"
  "${compose[@]}" up --detach --wait --no-build db "${restart[@]}" >/dev/null
  echo "restored: the stack runs on the database as of the recovery point above"
}
