{{/*
Names. With an alias in the umbrella chart, .Chart.Name is the alias (thrillpots, thrillgate, ...).
*/}}
{{- define "thrillsuite-service.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "thrillsuite-service.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- include "thrillsuite-service.peerName" (dict "root" . "name" (default .Chart.Name .Values.nameOverride)) }}
{{- end }}
{{- end }}

{{/*
The Service name of another service of the same release: the name this chart gives it (<release>-<alias>).
Call with (dict "root" $ "name" "thrillgate").
*/}}
{{- define "thrillsuite-service.peerName" -}}
{{- if contains .name .root.Release.Name }}
{{- .root.Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "thrillsuite-service.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The image tag: the service's own, the global one, the chart's appVersion. */}}
{{- define "thrillsuite-service.tag" -}}
{{- .Values.image.tag | default .Values.global.imageTag | default .Chart.AppVersion }}
{{- end }}

{{- define "thrillsuite-service.image" -}}
{{- $registry := .Values.image.registry | default .Values.global.imageRegistry }}
{{- $tag := include "thrillsuite-service.tag" . }}
{{- if eq (lower $tag) "latest" }}{{ fail "image tag `latest` is not allowed: name a version" }}{{ end }}
{{- if not .Values.image.repository }}{{ fail (printf "%s: image.repository is required" .Chart.Name) }}{{ end }}
{{- if $registry }}{{ printf "%s/%s:%s" $registry .Values.image.repository $tag }}{{ else }}{{ printf "%s:%s" .Values.image.repository $tag }}{{ end }}
{{- end }}

{{- define "thrillsuite-service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "thrillsuite-service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Standard labels; component defaults to .Values.component (the Job passes its own). */}}
{{- define "thrillsuite-service.labels" -}}
helm.sh/chart: {{ include "thrillsuite-service.chart" . }}
{{ include "thrillsuite-service.selectorLabels" . }}
app.kubernetes.io/version: {{ include "thrillsuite-service.tag" . | quote }}
app.kubernetes.io/component: {{ .Values.component }}
app.kubernetes.io/part-of: {{ .Values.global.partOf }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "thrillsuite-service.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "thrillsuite-service.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The non-secret settings, as a YAML map: the ConfigMap's data, and the migration Job's inline env (a pre-install
hook runs before the ConfigMap exists).
*/}}
{{- define "thrillsuite-service.configData" -}}
Service__Name: {{ include "thrillsuite-service.name" . | quote }}
Service__HttpPort: {{ .Values.ports.http | quote }}
{{- if .Values.grpc.enabled }}
Service__GrpcPort: {{ .Values.ports.grpc | quote }}
{{- end }}
Service__ShutdownGraceSeconds: {{ .Values.shutdownGraceSeconds | quote }}
{{- if .Values.global.otlp.endpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ .Values.global.otlp.endpoint | quote }}
OTEL_EXPORTER_OTLP_PROTOCOL: {{ .Values.global.otlp.protocol | quote }}
{{- end }}
{{- if .Values.authentication }}
Auth__Issuer: {{ required "global.auth.issuer is required (the public Thrill-ID issuer URL)" .Values.global.auth.issuer | quote }}
Auth__Audience: {{ .Values.global.auth.audiences | quote }}
Auth__JwksUri: {{ .Values.global.auth.jwksUri | default (printf "http://%s:%v/.well-known/jwks.json" (include "thrillsuite-service.peerName" (dict "root" . "name" "thrillid")) .Values.ports.http) | quote }}
{{- end }}
{{- if .Values.identityProvider }}
ThrillId__Issuer: {{ required "global.auth.issuer is required (the public Thrill-ID issuer URL)" .Values.global.auth.issuer | quote }}
ThrillId__Audiences: {{ .Values.global.auth.audiences | quote }}
{{- end }}
{{- range .Values.grpcClients }}
Grpc__Endpoints__{{ . }}: {{ printf "http://%s:%v" (include "thrillsuite-service.peerName" (dict "root" $ "name" .)) $.Values.ports.grpc | quote }}
{{- end }}
{{- range $name, $value := .Values.config }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/*
Settings from Secrets (secretKeyRef only): the PostgreSQL role, then the connection string built from it with
dependent variables, the RabbitMQ URI, and the service's own keys.
*/}}
{{- define "thrillsuite-service.secretEnv" -}}
{{- if .Values.database.name }}
{{- $pgSecret := .Values.database.existingSecret | default .Values.global.postgres.existingSecret }}
- name: THRILLSUITE_PG_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ required "global.postgres.existingSecret (or database.existingSecret) is required" $pgSecret }}
      key: {{ .Values.global.postgres.usernameKey }}
- name: THRILLSUITE_PG_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $pgSecret }}
      key: {{ .Values.global.postgres.passwordKey }}
- name: ConnectionStrings__{{ .Values.database.name }}
  value: {{ printf "Host=%s;Port=%v;Database=%s;Username=$(THRILLSUITE_PG_USERNAME);Password=\"$(THRILLSUITE_PG_PASSWORD)\";SSL Mode=%s" (required "global.postgres.host is required" .Values.global.postgres.host) .Values.global.postgres.port .Values.database.name .Values.global.postgres.sslMode | quote }}
{{- end }}
{{- if .Values.messaging }}
- name: ConnectionStrings__rabbitmq
  valueFrom:
    secretKeyRef:
      name: {{ required "global.rabbitmq.existingSecret is required" .Values.global.rabbitmq.existingSecret }}
      key: {{ .Values.global.rabbitmq.uriKey }}
{{- end }}
{{- range $name, $key := .Values.secrets.env }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "%s: secrets.existingSecret is required for %s" $.Chart.Name $name) $.Values.secrets.existingSecret }}
      key: {{ $key }}
{{- end }}
{{- end }}
