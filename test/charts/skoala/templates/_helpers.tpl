{{/* Common labels. */}}
{{- define "skoala.labels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
{{- end -}}

{{/* "<registry>/<repository>:<tag>", the tag defaulting to v<appVersion>. Call with (list $ .Values.hive.image). */}}
{{- define "skoala.image" -}}
{{- $root := index . 0 -}}
{{- $img := index . 1 -}}
{{- $tag := $img.tag | default (printf "v%s" $root.Chart.AppVersion) -}}
{{- printf "%s/%s:%s" $root.Values.global.imageRegistry $img.repository $tag -}}
{{- end -}}

{{/* One component Deployment: app container + istio-proxy sidecar. Call with (dict "root" $ "name" "hive" "c" .Values.hive "port" 8080). */}}
{{- define "skoala.deployment" -}}
{{- $root := .root -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    app.kubernetes.io/name: {{ .name }}
    {{- include "skoala.labels" $root | nindent 4 }}
spec:
  replicas: {{ .c.replicas }}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ .name }}
      app.kubernetes.io/instance: {{ $root.Release.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ .name }}
        app.kubernetes.io/instance: {{ $root.Release.Name }}
        app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
        {{- with .c.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .c.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      {{- with .c.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .name }}
          image: {{ include "skoala.image" (list $root .c.image) }}
          ports:
            - name: http
              containerPort: {{ .port }}
          {{- if .secret }}
          volumeMounts:
            - name: config
              mountPath: /etc/{{ .name }}
              readOnly: true
          {{- end }}
          resources:
            {{- toYaml $root.Values.resources | nindent 12 }}
        - name: {{ $root.Values.sidecar.name }}
          image: {{ printf "%s/%s:%s" $root.Values.global.imageRegistry $root.Values.sidecar.image.repository $root.Values.sidecar.image.tag }}
          resources:
            {{- toYaml $root.Values.resources | nindent 12 }}
      {{- if .secret }}
      volumes:
        - name: config
          secret:
            secretName: {{ .secret }}
      {{- end }}
{{- end -}}
