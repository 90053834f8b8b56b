#!/bin/sh
# The edoburu/pgbouncer entrypoint's interface, for the variables this project sets,
# with its quirks: `set -e`; DB_USER/DB_PASSWORD appended to the auth file (plain for
# AUTH_TYPE plain or scram-sha-256, else an md5 hash) only if that user is not in it
# yet; pgbouncer.ini generated from the variables only when no pgbouncer.ini exists
# (a mounted one is used as it is); then exec of the command.
set -e

config_dir=/etc/pgbouncer
auth_file="${AUTH_FILE:-$config_dir/userlist.txt}"
[ -e "$auth_file" ] || touch "$auth_file"

if [ -n "$DB_USER" ] && [ -n "$DB_PASSWORD" ] && ! grep -q "^\"$DB_USER\"" "$auth_file"; then
  if [ "$AUTH_TYPE" = plain ] || [ "$AUTH_TYPE" = scram-sha-256 ]; then
    secret="$DB_PASSWORD"
  else
    secret="md5$(printf '%s' "$DB_PASSWORD$DB_USER" | md5sum | cut -d ' ' -f 1)"
  fi
  printf '"%s" "%s"\n' "$DB_USER" "$secret" >>"$config_dir/userlist.txt"
  echo "Wrote authentication credentials to $config_dir/userlist.txt"
fi

optional() { # optional SETTING VALUE: a line of the ini, only when VALUE is set
  [ -z "$2" ] || printf '%s = %s\n' "$1" "$2"
}

if [ ! -f "$config_dir/pgbouncer.ini" ]; then
  echo "Create pgbouncer config in $config_dir"
  {
    echo "################## Auto generated ##################"
    echo "[databases]"
    echo "${DB_NAME:-*} = host=${DB_HOST:?Setup pgbouncer config error! You must set DB_HOST env} port=${DB_PORT:-5432} auth_user=${DB_USER:-postgres}"
    echo
    echo "[pgbouncer]"
    echo "listen_addr = ${LISTEN_ADDR:-0.0.0.0}"
    echo "listen_port = ${LISTEN_PORT:-5432}"
    echo "unix_socket_dir = ${UNIX_SOCKET_DIR}"
    echo "user = postgres"
    echo "auth_file = $auth_file"
    echo "auth_type = ${AUTH_TYPE:-md5}"
    optional pool_mode "$POOL_MODE"
    optional max_client_conn "$MAX_CLIENT_CONN"
    optional default_pool_size "$DEFAULT_POOL_SIZE"
    optional min_pool_size "$MIN_POOL_SIZE"
    optional reserve_pool_size "$RESERVE_POOL_SIZE"
    optional reserve_pool_timeout "$RESERVE_POOL_TIMEOUT"
    optional max_db_connections "$MAX_DB_CONNECTIONS"
    optional max_user_connections "$MAX_USER_CONNECTIONS"
    echo "ignore_startup_parameters = ${IGNORE_STARTUP_PARAMETERS:-extra_float_digits}"
    optional max_prepared_statements "$MAX_PREPARED_STATEMENTS"
    optional log_connections "$LOG_CONNECTIONS"
    optional log_disconnections "$LOG_DISCONNECTIONS"
    optional log_pooler_errors "$LOG_POOLER_ERRORS"
    optional stats_period "$STATS_PERIOD"
    echo "admin_users = ${ADMIN_USERS:-postgres}"
    optional stats_users "$STATS_USERS"
    optional server_reset_query "$SERVER_RESET_QUERY"
    optional server_lifetime "$SERVER_LIFETIME"
    optional server_idle_timeout "$SERVER_IDLE_TIMEOUT"
    optional server_connect_timeout "$SERVER_CONNECT_TIMEOUT"
    optional server_login_retry "$SERVER_LOGIN_RETRY"
    optional query_timeout "$QUERY_TIMEOUT"
    optional query_wait_timeout "$QUERY_WAIT_TIMEOUT"
    optional client_idle_timeout "$CLIENT_IDLE_TIMEOUT"
    optional idle_transaction_timeout "$IDLE_TRANSACTION_TIMEOUT"
    echo "################## end file ##################"
  } >"$config_dir/pgbouncer.ini"
  cat "$config_dir/pgbouncer.ini"
  echo "Starting $*..."
fi

exec "$@"
