#!/bin/sh
# usage: docker-entrypoint.sh [redis-server [ARGS...] | -ARGS... | CONFIG.conf | COMMAND...]
# The official redis image's entrypoint (docker-library/redis, 7.x), line for line,
# with setpriv in place of su-exec/gosu. Its quirks are kept on purpose, since CI
# must fail where the official image fails: `set -e`; as root it chowns with
# `find . \! -user redis -exec chown redis '{}' +` in /data before dropping to the
# redis user, and redis-server then runs with umask 0077 (its files are 0600,
# appendonlydir 0700).
set -e

# first arg is `-f` or `--some-option`
# or first arg is `something.conf`
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

# allow the container to be started with `--user`
if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

# set an appropriate umask (if one isn't set already)
um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

if [ "$1" = 'redis-server' ]; then
	# Protected mode is unnecessary in a container: the network is the boundary.
	doProtectedMode=1
	configFile=
	if [ -f "$2" ]; then
		configFile="$2"
		if grep -q '^protected-mode' "$configFile"; then
			doProtectedMode=
		fi
	fi
	if [ "$doProtectedMode" ]; then
		shift # "redis-server"
		if [ "$configFile" ]; then
			shift
		fi
		set -- --protected-mode no "$@"
		if [ "$configFile" ]; then
			set -- "$configFile" "$@"
		fi
		set -- redis-server "$@" # redis-server [config file] --protected-mode no [other options]
	fi
fi

exec "$@"
