#!/bin/sh
# usage: sh blackbox.sh [BLACKBOX_EXPORTER_OPTION...]
#
# The `monitoring` profile's blackbox exporter (docker-compose.prod.yml): writes the
# module that opens a TLS connection to the edge under the site's name (CERT_PROBE_NAME,
# the stack's DOMAIN), so Prometheus reads the certificate clients are served, then
# becomes the exporter. The certificate is read, not judged: Caddy's own CA (a localhost
# or staging site) is as readable as Let's Encrypt's, and the alert rules tell them
# apart (deploy/monitoring/alerts.yml). POSIX sh: the official image has busybox, not bash.
set -eu

name="${CERT_PROBE_NAME:-localhost}"
case "$name" in
  "" | *[!A-Za-z0-9.-]*)
    echo "configuration error: CERT_PROBE_NAME (DOMAIN) must be one host name, got '$name' (see deploy/production.env.example)" >&2
    exit 1
    ;;
esac

config=/tmp/blackbox.yml
cat >"$config" <<YAML
modules:
  edge_certificate:
    prober: tcp
    timeout: 5s
    tcp:
      tls: true
      tls_config:
        server_name: "$name"
        insecure_skip_verify: true
YAML
exec /bin/blackbox_exporter --config.file="$config" "$@"
