#!/bin/sh
# usage: sh alertmanager.sh [ALERTMANAGER_OPTION...]
#
# The `monitoring` profile's Alertmanager (docker-compose.prod.yml): writes its
# configuration from the stack's environment, then becomes Alertmanager. Alerts go by
# email to ALERT_EMAIL_TO through the app's own SMTP settings (EMAIL_HOST, EMAIL_PORT,
# EMAIL_USE_TLS, DEFAULT_FROM_EMAIL, the SendGrid key as the password), and/or as JSON
# to ALERT_WEBHOOK_URL. POSIX sh: the official image has busybox, not bash.
set -eu
umask 077

config=/tmp/alertmanager.yml

refuse_quotes() { # refuse_quotes NAME VALUE: the value goes inside a YAML double-quoted string
  case "$2" in
    *[\"\\]*) echo "configuration error: $1 must not contain \" or \\ (see deploy/production.env.example)" >&2; exit 1 ;;
  esac
}
refuse_quotes ALERT_EMAIL_TO "${ALERT_EMAIL_TO:-}"
refuse_quotes ALERT_WEBHOOK_URL "${ALERT_WEBHOOK_URL:-}"
refuse_quotes EMAIL_HOST "${EMAIL_HOST:-}"
refuse_quotes EMAIL_PORT "${EMAIL_PORT:-}"
refuse_quotes DEFAULT_FROM_EMAIL "${DEFAULT_FROM_EMAIL:-}"

if [ -z "${ALERT_EMAIL_TO:-}" ] && [ -z "${ALERT_WEBHOOK_URL:-}" ]; then
  echo "WARNING: alerts are sent nowhere: set ALERT_EMAIL_TO or ALERT_WEBHOOK_URL (they still show in Prometheus and Alertmanager)" >&2
fi

{
  echo "global:"
  echo "  smtp_smarthost: \"${EMAIL_HOST:-smtp.sendgrid.net}:${EMAIL_PORT:-587}\""
  echo "  smtp_from: \"${DEFAULT_FROM_EMAIL:-DesiDeliver <orders@desideliver.in>}\""
  case "${EMAIL_USE_TLS:-true}" in
    true | 1 | yes | on) echo "  smtp_require_tls: true" ;;
    *) echo "  smtp_require_tls: false" ;;
  esac
  # SendGrid's SMTP login: the user is the word apikey, the password the key.
  if [ -n "${SENDGRID_API_KEY_FILE:-}" ]; then
    echo "  smtp_auth_username: apikey"
    echo "  smtp_auth_password_file: \"$SENDGRID_API_KEY_FILE\""
  elif [ -n "${SENDGRID_API_KEY:-}" ]; then
    refuse_quotes SENDGRID_API_KEY "$SENDGRID_API_KEY"
    echo "  smtp_auth_username: apikey"
    echo "  smtp_auth_password: \"$SENDGRID_API_KEY\""
  fi
  echo "route:"
  echo "  receiver: operator"
  echo "  group_by: [alertname]"
  echo "  group_wait: ${ALERT_GROUP_WAIT:-30s}"
  echo "  group_interval: 5m"
  echo "  repeat_interval: 4h"
  echo "receivers:"
  echo "  - name: operator"
  if [ -n "${ALERT_EMAIL_TO:-}" ]; then
    echo "    email_configs:"
    echo "      - to: \"$ALERT_EMAIL_TO\""
    echo "        send_resolved: true"
  fi
  if [ -n "${ALERT_WEBHOOK_URL:-}" ]; then
    echo "    webhook_configs:"
    echo "      - url: \"$ALERT_WEBHOOK_URL\""
    echo "        send_resolved: true"
  fi
} >"$config"

exec /bin/alertmanager --config.file="$config" --storage.path=/alertmanager "$@"
