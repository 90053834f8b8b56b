#!/usr/bin/env bash
# usage: s3-object put FILE KEY | list PREFIX | delete KEY
#
# The objects beside pgBackRest's repository in its S3-compatible bucket: the backup
# service copies its dumps and the media files there (deploy/backup/pg-backup.sh), with
# the bucket, endpoint, credentials and certificate authority pgBackRest itself is given
# (PGBACKREST_REPO1_S3_*, PGBACKREST_REPO1_STORAGE_*; docs/DEPLOY.md, "Off the server").
# curl signs each request (AWS Signature Version 4); `list` prints every key under
# PREFIX, one a line, in the bucket's (name) order, page after page.
set -euo pipefail

usage() {
  echo "usage: s3-object put FILE KEY | list PREFIX | delete KEY" >&2
  exit 2
}
[[ $# -ge 2 ]] || usage

bucket="${PGBACKREST_REPO1_S3_BUCKET:?PGBACKREST_REPO1_S3_BUCKET is not set}"
endpoint="${PGBACKREST_REPO1_S3_ENDPOINT:?PGBACKREST_REPO1_S3_ENDPOINT is not set}"
region="${PGBACKREST_REPO1_S3_REGION:?PGBACKREST_REPO1_S3_REGION is not set}"
port="${PGBACKREST_REPO1_STORAGE_PORT:-443}"
if [[ "${PGBACKREST_REPO1_S3_URI_STYLE:-host}" == path ]]; then
  base="https://$endpoint:$port/$bucket"
else
  base="https://$bucket.$endpoint:$port"
fi

s3() { # s3 CURL-ARGS... URL-PATH-AND-QUERY: one signed request; the body on stdout
  local options=(--silent --show-error --fail-with-body --max-time 600 --retry 3
    --aws-sigv4 "aws:amz:$region:s3" --user "${PGBACKREST_REPO1_S3_KEY:?}:${PGBACKREST_REPO1_S3_KEY_SECRET:?}"
    # S3 needs the payload's hash, or this, signed with the request (curl signs it as given).
    --header "x-amz-content-sha256: UNSIGNED-PAYLOAD")
  [[ -z "${PGBACKREST_REPO1_S3_TOKEN:-}" ]] || options+=(--header "x-amz-security-token: $PGBACKREST_REPO1_S3_TOKEN")
  [[ -z "${PGBACKREST_REPO1_STORAGE_CA_FILE:-}" ]] || options+=(--cacert "$PGBACKREST_REPO1_STORAGE_CA_FILE")
  [[ "${PGBACKREST_REPO1_STORAGE_VERIFY_TLS:-y}" != n ]] || options+=(--insecure)
  local target="${*: -1}" # a key, or ?QUERY for the bucket itself
  [[ "$target" == \?* ]] || target="/$target"
  curl "${options[@]}" "${@:1:$#-1}" "$base$target"
}

urlencode() { # every byte but RFC 3986's unreserved ones as %XX, as SigV4 wants
  local LC_ALL=C text="$1" out="" char index
  for ((index = 0; index < ${#text}; index++)); do
    char="${text:index:1}"
    case "$char" in
      [A-Za-z0-9._~-]) out+="$char" ;;
      *) printf -v char '%%%02X' "'$char"; out+="$char" ;;
    esac
  done
  printf '%s' "$out"
}

path_of() { # path_of KEY: each segment URL-encoded, the slashes kept
  local segment segments out=""
  IFS=/ read -r -a segments <<<"$1"
  for segment in "${segments[@]}"; do
    out+="${out:+/}$(urlencode "$segment")"
  done
  printf '%s' "$out"
}

case "$1" in
  put)
    [[ $# -eq 3 && -f "$2" ]] || usage
    s3 --upload-file "$2" "$(path_of "$3")" >/dev/null
    ;;
  delete)
    s3 --request DELETE "$(path_of "$2")" >/dev/null
    ;;
  list)
    token=""
    while :; do
      query="list-type=2&prefix=$(urlencode "$2")"
      [[ -z "$token" ]] || query="continuation-token=$(urlencode "$token")&$query"
      page="$(s3 "?$query")"
      sed -n 's/^<Key>\([^<]*\)<\/Key>.*/\1/p' <<<"${page//<Key>/$'\n'<Key>}"
      token="$(sed -n 's/.*<NextContinuationToken>\([^<]*\)<\/NextContinuationToken>.*/\1/p' <<<"$page")"
      [[ -n "$token" ]] || break
    done
    ;;
  *) usage ;;
esac
