{{/* The chart name, or nameOverride: app.kubernetes.io/name and the pod selector. */}}
{{- define "hsds-autoscaler.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The name of every object: fullnameOverride, else the release name if it contains the
chart name, else <release>-<chart>. */}}
{{- define "hsds-autoscaler.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := include "hsds-autoscaler.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The namespace of the namespaced objects. */}}
{{- define "hsds-autoscaler.namespace" -}}
{{- default .Release.Namespace .Values.namespace.name }}
{{- end }}

{{/* Labels of every object: deploy/base's part-of and Helm's standard ones. */}}
{{- define "hsds-autoscaler.labels" -}}
app.kubernetes.io/part-of: hsds-autoscaler
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The pod selector. Never app=hsds: HSDS takes any such pod for a data node. */}}
{{- define "hsds-autoscaler.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hsds-autoscaler.name" . }}
{{- end }}

{{/* The ServiceAccount as an RBAC subject. */}}
{{- define "hsds-autoscaler.subject" -}}
- kind: ServiceAccount
  name: {{ include "hsds-autoscaler.fullname" . }}
  namespace: {{ include "hsds-autoscaler.namespace" . }}
{{- end }}

{{- define "hsds-autoscaler.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "hsds-autoscaler.fullname" .)) .Values.tls.secretName }}
{{- end }}

{{/* The DNS names the aggregator verifies: <service>.<namespace>.svc (and the cluster-local
form). */}}
{{- define "hsds-autoscaler.dnsNames" -}}
{{- $svc := printf "%s.%s.svc" (include "hsds-autoscaler.fullname" .) (include "hsds-autoscaler.namespace" .) -}}
{{- list $svc (printf "%s.cluster.local" $svc) | toJson }}
{{- end }}

{{- define "hsds-autoscaler.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The policy's spec.target as YAML: from policy.file when set, else policy.target; empty
with policy.enabled=false. */}}
{{- define "hsds-autoscaler.target" -}}
{{- if .Values.policy.enabled }}
{{- $t := .Values.policy.target }}
{{- if .Values.policy.file }}
{{- $t = (.Values.policy.file | fromYaml).spec.target }}
{{- if not $t }}
{{- fail "policy.file has no spec.target: the chart grants resizing the policy's target only" }}
{{- end }}
{{- end }}
{{- with .Values.hsds.namespaces }}
{{- if not (has $t.namespace .) }}
{{- fail (printf "policy.target.namespace %q is not among hsds.namespaces %v: the adapter would not see the target's pods" $t.namespace .) }}
{{- end }}
{{- end }}
{{- toYaml $t }}
{{- end }}
{{- end }}

{{/* The objects the scaler may resize, as YAML {namespace: [rule, ...]}: the policy's target and
hsdsAutoscalers.targets, one scale rule per namespace and kind naming them (resourceNames). A
target outside a non-empty hsds.namespaces fails the render. */}}
{{- define "hsds-autoscaler.scaleRules" -}}
{{- $targets := list }}
{{- with include "hsds-autoscaler.target" . | fromYaml }}
{{- $group := "" }}
{{- if contains "/" .apiVersion }}{{ $group = index (splitList "/" .apiVersion) 0 }}{{ end }}
{{- $targets = append $targets (dict "group" $group "kind" .kind "namespace" .namespace "name" .name) }}
{{- end }}
{{- range .Values.hsdsAutoscalers.targets }}
{{- if and $.Values.hsds.namespaces (not (has .namespace $.Values.hsds.namespaces)) }}
{{- fail (printf "hsdsAutoscalers.targets: namespace %q is not among hsds.namespaces %v: serve would not watch the HSDSAutoscaler objects there" .namespace $.Values.hsds.namespaces) }}
{{- end }}
{{- $targets = append $targets (dict "group" "apps" "kind" (default "Deployment" .kind) "namespace" .namespace "name" .name) }}
{{- end }}
{{- $byNS := dict }}
{{- range $targets }}
{{- $rules := get $byNS .namespace | default dict }}
{{- $res := printf "%ss/scale" (lower .kind) }}
{{- $rule := get $rules $res | default (dict "apiGroups" (list .group) "resources" (list $res) "resourceNames" list "verbs" (list "get" "update")) }}
{{- if not (has .name $rule.resourceNames) }}
{{- $_ := set $rule "resourceNames" (append $rule.resourceNames .name) }}
{{- end }}
{{- $_ := set $rules $res $rule }}
{{- $_ := set $byNS .namespace $rules }}
{{- end }}
{{- $out := dict }}
{{- range $ns, $rules := $byNS }}
{{- $list := list }}
{{- range $res := keys $rules | sortAlpha }}{{ $list = append $list (get $rules $res) }}{{ end }}
{{- $_ := set $out $ns $list }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/* The ScalingPolicy file: policy.file verbatim, else built from policy.target, selector,
policy and guards (absent fields take the code's defaults, docs/policy.md). */}}
{{- define "hsds-autoscaler.policyFile" -}}
{{- if .Values.policy.file }}
{{- .Values.policy.file }}
{{- else }}
{{- $p := .Values.policy }}
{{- $spec := dict "target" $p.target }}
{{- with $p.selector }}{{ $_ := set $spec "selector" . }}{{ end }}
{{- with $p.policy }}{{ $_ := set $spec "policy" . }}{{ end }}
{{- with $p.guards }}{{ $_ := set $spec "guards" . }}{{ end }}
{{- dict "apiVersion" "hsds-autoscaler.io/v1alpha1" "kind" "ScalingPolicy" "metadata" (dict "name" $p.target.name) "spec" $spec | toYaml }}
{{- end }}
{{- end }}
