#!/bin/sh
# usage: as-postgres COMMAND [ARGS...]
#
# Runs COMMAND as the postgres user, the owner of the data files pgBackRest reads and
# restores: the backup service and scripts/db's point-in-time restore start as root (to
# reach the mounted volumes) and drop to it for pgBackRest, pg_ctl and psql.
set -eu
[ $# -gt 0 ] || { echo "usage: as-postgres COMMAND [ARGS...]" >&2; exit 2; }
exec setpriv --reuid=postgres --regid=postgres --init-groups "$@"
