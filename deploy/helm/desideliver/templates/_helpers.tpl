{{/* Names and labels shared by every template. */}}
{{- define "desideliver.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
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

{{/* Environment of every app container: the ConfigMap, the Secret, and what the chart derives. */}}
{{- define "desideliver.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "desideliver.fullname" . }}
env:
  {{- range $key := list "SECRET_KEY" "DB_PASSWORD" "REDIS_PASSWORD" "SENDGRID_API_KEY" }}
  - name: {{ $key }}
    valueFrom:
      secretKeyRef:
        name: {{ include "desideliver.secretName" $ }}
        key: {{ $key }}
  {{- end }}
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
