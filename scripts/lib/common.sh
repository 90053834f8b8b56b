# shellcheck shell=bash
# Sourced by the operator scripts (scripts/dev, db, deploy, swarm): what they share.
# A script's usage is its header comment: line 2 up to the first line that is not one.

usage() { awk 'NR == 1 { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' "$0"; }
die() { echo "error: $*" >&2; exit 1; }
# Every command an operator could type is printed before it runs.
run() {
  printf '+ %s\n' "$*" >&2
  "$@"
}
