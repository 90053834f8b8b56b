#!/usr/bin/env bash
# usage: DJANGO_LOCALES="en" slim-venv.sh SITE_PACKAGES
#
# Removes from the runtime virtualenv what the app never loads (the Dockerfile's
# deps stage runs it in the same layer as `uv sync`, so the bytes never reach an
# image). Each rule says why it loses nothing; tests/api/tooling/test_image_slim.py
# checks the app still loads what it needs from what is left.
set -euo pipefail

if [[ $# -ne 1 || ! -d "$1" ]]; then
  echo 'usage: DJANGO_LOCALES="en" slim-venv.sh SITE_PACKAGES' >&2
  exit 2
fi
site="$1"
read -r -a locales <<<"${DJANGO_LOCALES:-en}"

# botocore describes every AWS service (about 28 MB); media storage calls S3, and the
# credential chain calls STS for web-identity and assume-role credentials (pod
# identity on Kubernetes). The top-level files (endpoints, partitions, retry rules,
# default configuration) are shared by every client.
find "$site/botocore/data" -mindepth 1 -maxdepth 1 -type d ! -name s3 ! -name sts -exec rm -rf {} +
find "$site/boto3/data" -mindepth 1 -maxdepth 1 -type d ! -name s3 -exec rm -rf {} +

# Django's translations into ninety-odd languages (about 30 MB). Without
# LocaleMiddleware every request speaks LANGUAGE_CODE (en-in, which falls back to
# en); a deployment that turns on more languages names them in the build argument
# DJANGO_LOCALES. The package's own __init__.py files stay.
keep=()
for locale in "${locales[@]}"; do
  keep+=(! -name "$locale" ! -name "${locale}_*")
done
find "$site/django/conf/locale" "$site"/django/contrib/*/locale \
  -mindepth 1 -maxdepth 1 -type d "${keep[@]}" ! -name __pycache__ -exec rm -rf {} +

# The API docs page is Swagger UI (ReDoc is not routed), and source maps only serve a
# browser's developer tools; the bundles' sourceMappingURL lines go too, or
# collectstatic's manifest would look for the maps.
sidecar="$site/drf_spectacular_sidecar/static/drf_spectacular_sidecar"
rm -rf "$sidecar/redoc"
find "$sidecar" -name '*.map' -delete
find "$sidecar" \( -name '*.js' -o -name '*.css' \) -exec sed -i '/sourceMappingURL=/d' {} +

# psycopg2-binary bundles its own OpenSSL 3 for libpq (about 7.7 MB), which "upgrading the
# system libraries will not upgrade" (psycopg's install docs). The base image has OpenSSL 3,
# kept current by its security updates, and libpq needs only its 3.0 ABI: the bundled names
# become links to the system's libraries, so a process holds one OpenSSL, the one Python's
# ssl module uses (two in one process: psycopg/psycopg2#543).
for bundled in "$site"/psycopg2_binary.libs/lib{ssl,crypto}-*.so.3; do
  [[ -f "$bundled" ]] || { echo "slim-venv.sh: psycopg2-binary bundles no $bundled: revisit this rule" >&2; exit 1; }
  name="$(basename "$bundled")"
  system="$(ldconfig -p | awk -v lib="${name%%-*}.so.3" '$1 == lib { print $NF; exit }')"
  [[ -n "$system" ]] || { echo "slim-venv.sh: the base image has no ${name%%-*}.so.3" >&2; exit 1; }
  ln -sf "$system" "$bundled"
done

# GeoDjango is not an installed app, and nothing imports it otherwise.
rm -rf "$site/django/contrib/gis"

# products/validators.py accepts JPEG, PNG and WebP only: without its AVIF decoder
# (about 5 MB) Pillow reads an AVIF upload as unreadable, refused either way, and
# keeps one decoder fewer exposed to uploads. Pillow reports AVIF as unsupported.
rm -f "$site"/PIL/_avif.*.so "$site"/pillow.libs/libavif-*

# Test suites shipped inside packages are never imported by them (Tornado, Flower's web
# server, names its own tornado/test).
find "$site" -mindepth 2 -maxdepth 2 -type d -name tests -exec rm -rf {} +
rm -rf "$site/tornado/test"

# Flower formats durations with humanize in English, which is built in; it never
# switches humanize's language, so the translations go.
rm -rf "$site/humanize/locale"
