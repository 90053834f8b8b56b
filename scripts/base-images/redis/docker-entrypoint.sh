#!/usr/bin/env bash
# usage: docker-entrypoint.sh [redis-server [ARGS...] | -ARGS... | COMMAND...]
# Like the official image: no config file, protected mode off (the container
# network is the boundary), run as the redis user.
set -euo pipefail

if [[ "${1:-}" == -* || "${1:-}" == *.conf ]]; then
  set -- redis-server "$@"
fi
if [[ "${1:-}" == redis-server && "$(id -u)" == 0 ]]; then
  chown -R redis:redis /data 2>/dev/null || true
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
if [[ "${1:-}" == redis-server && "${2:-}" != -v && "${2:-}" != --version ]]; then
  shift
  set -- redis-server --protected-mode no --bind '* -::*' "$@"
fi
exec "$@"
