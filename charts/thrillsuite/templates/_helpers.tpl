{{- define "thrillsuite.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "thrillsuite.labels" -}}
helm.sh/chart: {{ include "thrillsuite.chart" . }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.global.imageTag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: edge
app.kubernetes.io/part-of: {{ .Values.global.partOf }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The Service name the thrillsuite-service chart gives an alias (its fullname). Call with (dict "root" $ "alias" "thrillpots").
*/}}
{{- define "thrillsuite.serviceName" -}}
{{- $values := index .root.Values .alias }}
{{- if $values.fullnameOverride }}
{{- $values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains .alias .root.Release.Name }}
{{- .root.Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .root.Release.Name .alias | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
One edge Ingress. Call with (dict "root" $ "suffix" "api" "host" "..." "annotations" (dict ...) "paths" (list (list alias port path pathType) ...)).
Paths of services that are not enabled are left out; an Ingress left with no path is not rendered.
*/}}
{{- define "thrillsuite.ingress" -}}
{{- $root := .root }}
{{- $paths := list }}
{{- range .paths }}
{{- if (index $root.Values (index . 0)).enabled }}
{{- $paths = append $paths . }}
{{- end }}
{{- end }}
{{- if $paths }}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ printf "%s-%s" $root.Release.Name .suffix | trunc 63 | trimSuffix "-" }}
  labels:
    {{- include "thrillsuite.labels" $root | nindent 4 }}
  annotations:
    nginx.ingress.kubernetes.io/proxy-connect-timeout: {{ $root.Values.ingress.limits.connectTimeoutSeconds | quote }}
    # Never retried by the controller: a POST that reached a service once is not sent again.
    nginx.ingress.kubernetes.io/proxy-next-upstream: "off"
    {{- if $root.Values.ingress.openTelemetry }}
    nginx.ingress.kubernetes.io/enable-opentelemetry: "true"
    nginx.ingress.kubernetes.io/opentelemetry-trust-incoming-span: "true"
    {{- end }}
    {{- range $key, $value := .annotations }}
    {{ $key }}: {{ $value | toString | quote }}
    {{- end }}
    {{- with $root.Values.ingress.annotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  ingressClassName: {{ $root.Values.ingress.className }}
  {{- if $root.Values.ingress.tls.enabled }}
  tls:
    - hosts:
        - {{ .host | quote }}
      secretName: {{ required "ingress.tls.secretName is required when ingress.tls.enabled" $root.Values.ingress.tls.secretName }}
  {{- end }}
  rules:
    - host: {{ required "ingress.host is required" .host | quote }}
      http:
        paths:
          {{- range $paths }}
          - path: {{ index . 2 | quote }}
            pathType: {{ index . 3 }}
            backend:
              service:
                name: {{ include "thrillsuite.serviceName" (dict "root" $root "alias" (index . 0)) }}
                port:
                  name: {{ index . 1 }}
          {{- end }}
{{- end }}
{{- end }}
