{{/* Names and labels shared by every template. */}}
{{- define "desideliver.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "desideliver.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: desideliver
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: web, worker, beat, migrate, backup. */}}
{{- define "desideliver.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "desideliver.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{- define "desideliver.secretName" -}}
{{- .Values.existingSecret | default (include "desideliver.fullname" .) -}}
{{- end -}}

{{/* The app's settings: the ConfigMap's data (configmap.yaml, and the migrate Job's copy). */}}
{{- define "desideliver.configData" -}}
{{- range $key, $value := .Values.config }}
{{ $key }}: {{ $value | toString | quote }}
{{- end }}
ALLOWED_HOSTS: {{ join "," .Values.hosts | quote }}
{{- if not (hasKey .Values.config "SENTRY_RELEASE") }}
SENTRY_RELEASE: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
{{- end }}
DB_HOST: {{ .Values.database.host | quote }}
DB_PORT: {{ .Values.database.port | toString | quote }}
DB_NAME: {{ .Values.database.name | quote }}
DB_USER: {{ .Values.database.user | quote }}
DB_STATEMENT_TIMEOUT: {{ .Values.database.statementTimeout | toString | quote }}
{{- with .Values.database.directHost }}
DB_DIRECT_HOST: {{ . | quote }}
DB_DIRECT_PORT: {{ $.Values.database.directPort | toString | quote }}
{{- end }}
REDIS_URL: {{ .Values.redis.url | quote }}
REDIS_CACHE_URL: {{ .Values.redis.cacheUrl | default .Values.redis.url | quote }}
EMAIL_BACKEND: django.core.mail.backends.smtp.EmailBackend
# Migrations run once, in the migrate Job; the pods only wait for them.
DJANGO_MIGRATE_ON_START: "false"
WEB_CONCURRENCY: {{ .Values.web.gunicorn.workers | toString | quote }}
GUNICORN_THREADS: {{ .Values.web.gunicorn.threads | toString | quote }}
GUNICORN_TIMEOUT: {{ .Values.web.gunicorn.timeout | toString | quote }}
GUNICORN_KEEPALIVE: {{ .Values.web.gunicorn.keepalive | toString | quote }}
CELERY_CONCURRENCY: {{ .Values.worker.concurrency | toString | quote }}
METRICS_PORT: {{ .Values.metrics.port | toString | quote }}
{{- $media := .Values.media }}
MEDIA_STORAGE: {{ $media.storage | quote }}
{{- if eq $media.storage "s3" }}
{{- if not $media.s3.bucket }}
{{- fail "media.s3.bucket is empty: name the bucket, or set media.storage=local" }}
{{- end }}
MEDIA_S3_BUCKET: {{ $media.s3.bucket | quote }}
MEDIA_S3_ENDPOINT_URL: {{ $media.s3.endpointUrl | quote }}
MEDIA_S3_REGION: {{ $media.s3.region | quote }}
MEDIA_S3_PREFIX: {{ $media.s3.prefix | quote }}
MEDIA_S3_ADDRESSING_STYLE: {{ $media.s3.addressingStyle | quote }}
MEDIA_S3_PRESIGNED_URLS: {{ $media.s3.presignedUrls | toString | quote }}
MEDIA_S3_URL_SECONDS: {{ $media.s3.urlSeconds | toString | quote }}
MEDIA_S3_CUSTOM_DOMAIN: {{ $media.s3.customDomain | quote }}
MEDIA_S3_ACCESS_KEY_ID: {{ $media.s3.accessKeyId | quote }}
# Images are the bucket's to serve.
SERVE_MEDIA: "false"
{{- else }}
# No edge in front of the pods serves the volume: Django does, with nosniff and a sandboxing CSP.
SERVE_MEDIA: "true"
{{- end }}
{{- end -}}

{{/* The Secret's data, when the chart makes the Secret (secret.yaml, and the migrate Job's copy). */}}
{{- define "desideliver.secretData" -}}
{{- range $key, $value := .Values.secrets }}
{{- if not $value }}
{{- fail (printf "secrets.%s is empty: set it, or name an existing Secret in existingSecret" $key) }}
{{- end }}
{{ $key }}: {{ $value | quote }}
{{- end }}
{{- if include "desideliver.s3Keys" . }}
{{- if not .Values.media.s3.secretAccessKey }}
{{- fail "media.s3.secretAccessKey is empty while media.s3.accessKeyId is set: set both, or neither (the pod's identity)" }}
{{- end }}
MEDIA_S3_SECRET_ACCESS_KEY: {{ .Values.media.s3.secretAccessKey | quote }}
{{- end }}
{{- end -}}

{{/* "true" when the app signs S3 requests with a key pair from the Secret (not the pod's identity). */}}
{{- define "desideliver.s3Keys" -}}
{{- if and (eq .Values.media.storage "s3") .Values.media.s3.accessKeyId }}true{{ end -}}
{{- end -}}

{{/*
Environment of an app container: a ConfigMap, a Secret, and what the chart derives.
(dict "root" . "suffix" ""): the release's own; "-migrate": the migrate Job's copies.
*/}}
{{- define "desideliver.env" -}}
{{- $root := .root -}}
{{- $secret := .root.Values.existingSecret | default (printf "%s%s" (include "desideliver.fullname" .root) .suffix) -}}
envFrom:
  - configMapRef:
      name: {{ include "desideliver.fullname" $root }}{{ .suffix }}
env:
  {{- $keys := list "SECRET_KEY" "DB_PASSWORD" "REDIS_PASSWORD" "SENDGRID_API_KEY" }}
  {{- if include "desideliver.s3Keys" $root }}
  {{- $keys = append $keys "MEDIA_S3_SECRET_ACCESS_KEY" }}
  {{- end }}
  {{- range $key := $keys }}
  - name: {{ $key }}
    valueFrom:
      secretKeyRef:
        name: {{ $secret }}
        key: {{ if $root.Values.existingSecret }}{{ index $root.Values.existingSecretKeys $key | default $key }}{{ else }}{{ $key }}{{ end }}
  {{- end }}
  {{- with $root.Values.database.sslmode }}
  - {name: DB_SSLMODE, value: {{ . | quote }}}
  {{- end }}
  {{- if $root.Values.database.caSecret.name }}
  - {name: DB_SSLROOTCERT, value: /etc/desideliver/database-ca/{{ $root.Values.database.caSecret.key }}}
  {{- end }}
  {{- with $root.Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* An app pod's metadata beyond the chart's own: podLabels and podAnnotations. */}}
{{- define "desideliver.podLabels" -}}
{{- with .Values.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "desideliver.podAnnotations" -}}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "desideliver.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "desideliver.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/*
Pod-level scheduling of a long-running app pod (dict "root" . "component" "web" "values" .Values.web):
its service account, priority class and topology spread (each constraint given the
component's selector unless it names its own).
*/}}
{{- define "desideliver.podScheduling" -}}
{{- $root := .root -}}
serviceAccountName: {{ include "desideliver.serviceAccountName" $root }}
{{- with $root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .values.topologySpreadConstraints }}
topologySpreadConstraints:
{{- range . }}
  - {{ toYaml (merge (dict) . (dict "labelSelector" (dict "matchLabels" (include "desideliver.selector" (dict "root" $root "component" $.component) | fromYaml)))) | nindent 4 | trim }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Mounts and volumes every app container adds: the database's CA, then extraVolumeMounts/extraVolumes. */}}
{{- define "desideliver.extraMounts" -}}
{{- include "desideliver.databaseCaMount" . }}
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "desideliver.extraVolumes" -}}
{{- include "desideliver.databaseCaVolume" . }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The database's CA (database.caSecret), for the app and the backup CronJob alike. */}}
{{- define "desideliver.databaseCaMount" -}}
{{- if .Values.database.caSecret.name }}
- {name: database-ca, mountPath: /etc/desideliver/database-ca, readOnly: true}
{{- end }}
{{- end -}}

{{- define "desideliver.databaseCaVolume" -}}
{{- with .Values.database.caSecret.name }}
- name: database-ca
  secret: {secretName: {{ . }}, defaultMode: 0444}
{{- end }}
{{- end -}}

{{/*
A pod template's checksums of what its containers read: a change to any setting (hosts,
database, Redis, Gunicorn, secrets) rolls the pods, as a changed image does.
*/}}
{{- define "desideliver.checksums" -}}
checksum/config: {{ include "desideliver.configData" . | sha256sum }}
checksum/secret: {{ if .Values.existingSecret }}{{ .Values.existingSecret | sha256sum }}{{ else }}{{ include "desideliver.secretData" . | sha256sum }}{{ end }}
{{- end -}}

{{/* Values that the schema cannot relate to each other: refused with what to change. */}}
{{- define "desideliver.validate" -}}
{{- $web := .Values.web -}}
{{- if and $web.autoscaling.enabled (gt (int $web.autoscaling.minReplicas) (int $web.autoscaling.maxReplicas)) -}}
{{- fail (printf "web.autoscaling.minReplicas (%d) is above maxReplicas (%d)" (int $web.autoscaling.minReplicas) (int $web.autoscaling.maxReplicas)) -}}
{{- end -}}
{{- /* Gunicorn's graceful timeout: 20 s (backend/desideliver_backend/runtime/gunicorn_conf.py). */ -}}
{{- if le (int $web.terminationGracePeriodSeconds) (add (int $web.preStopSeconds) 20) -}}
{{- fail (printf "web.terminationGracePeriodSeconds (%d) must be longer than web.preStopSeconds (%d) plus Gunicorn's 20 s graceful timeout, or requests in flight are killed" (int $web.terminationGracePeriodSeconds) (int $web.preStopSeconds)) -}}
{{- end -}}
{{- end -}}

{{/* The container hardening every pod shares. */}}
{{- define "desideliver.containerSecurity" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 1000
  runAsGroup: 1000
  readOnlyRootFilesystem: true
  allowPrivilegeEscalation: false
  capabilities:
    drop: [ALL]
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{/* Probe of a Celery heartbeat file: its age, no Python, no broker round trip. */}}
{{- define "desideliver.heartbeatProbe" -}}
exec:
  command:
    - sh
    - -c
    - test $(( $(date +%s) - $(stat -c %Y /tmp/celery-{{ . }}.heartbeat) )) -lt 30
{{- end -}}
