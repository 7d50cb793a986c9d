{{/*
Names follow config/default's namePrefix: with the release named "littleecom" every object
has the name `make deploy` and install.yaml give it (littleecom-controller-manager, ...).
*/}}
{{- define "littleecom.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "littleecom.serviceAccountName" -}}
{{ include "littleecom.fullname" . }}-controller-manager
{{- end -}}

{{/* Labels of every object. */}}
{{- define "littleecom.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: littleecom
{{- end -}}

{{/*
The operator's pods. control-plane: controller-manager is config/default's label, which
NetworkPolicies and ServiceMonitors written for install.yaml select; instance keeps two
releases apart. Selectors are immutable: nothing here may change between releases.
*/}}
{{- define "littleecom.selectorLabels" -}}
control-plane: controller-manager
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "littleecom.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The operator's rules, generated from its +kubebuilder:rbac markers (config/rbac/role.yaml). */}}
{{- define "littleecom.managerRules" -}}
{{- $role := .Files.Get "files/manager-role.yaml" | fromYaml -}}
{{- if not $role.rules -}}
{{- fail "files/manager-role.yaml has no rules: run hack/release/sync-chart.sh" -}}
{{- end -}}
{{ toYaml $role.rules }}
{{- end -}}
