{{- define "prereq.registry" -}}{{ (.Values.global).imageRegistry | default "release.daocloud.io" }}{{- end -}}
{{- define "prereq.labels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
{{- end -}}
