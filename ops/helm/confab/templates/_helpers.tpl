{{- define "confab.fullname" -}}
{{- printf "%s-confab" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "confab.labels" -}}
app.kubernetes.io/name: confab
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "confab.selector" -}}
app.kubernetes.io/name: confab
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "confab.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "confab.dbHost" -}}
{{- if .Values.postgresql.enabled -}}
{{ printf "%s-postgresql" .Release.Name }}
{{- else -}}
{{ required "database.host is required when postgresql.enabled is false" .Values.database.host }}
{{- end -}}
{{- end -}}

{{- define "confab.natsUrl" -}}
{{- if .Values.natsUrl -}}
{{ .Values.natsUrl }}
{{- else -}}
{{ printf "nats://%s-nats:4222" .Release.Name }}
{{- end -}}
{{- end -}}

{{/* What every Confab container shares: image, settings, security, the data volume. */}}
{{- define "confab.container" -}}
image: {{ include "confab.image" .root }}
imagePullPolicy: {{ .root.Values.image.pullPolicy }}
args: [{{ .process | quote }}]
envFrom:
  - configMapRef:
      name: {{ include "confab.fullname" .root }}
  - secretRef:
      name: {{ include "confab.fullname" .root }}
securityContext:
  {{- toYaml .root.Values.securityContext | nindent 2 }}
volumeMounts:
  - name: data
    mountPath: /data
{{- end -}}

{{- define "confab.volumes" -}}
volumes:
  - name: data
    {{- if .Values.blobs.existingClaim }}
    persistentVolumeClaim:
      claimName: {{ .Values.blobs.existingClaim }}
    {{- else }}
    emptyDir: {}
    {{- end }}
{{- end -}}

{{/* Probes of a relay, projector or worker: its health port. */}}
{{- define "confab.healthProbes" -}}
ports:
  - name: health
    containerPort: {{ .Values.healthPort }}
livenessProbe:
  httpGet: {path: /healthz, port: health}
  periodSeconds: 15
  failureThreshold: 4
readinessProbe:
  httpGet: {path: /readyz, port: health}
  periodSeconds: 10
{{- end -}}
