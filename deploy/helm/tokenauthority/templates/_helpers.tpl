{{/* Name of the chart, for labels. */}}
{{- define "tokenauthority.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects. */}}
{{- define "tokenauthority.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tokenauthority.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tokenauthority.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tokenauthority.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tokenauthority.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "tokenauthority.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tokenauthority.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Refuses values that would render a server that cannot start. */}}
{{- define "tokenauthority.validate" -}}
{{- if not (has .Values.store (list "bbolt" "etcd")) }}
{{- fail (printf "store %q: want bbolt or etcd" .Values.store) }}
{{- end }}
{{- if eq .Values.store "etcd" }}
{{- if not .Values.etcd.endpoints }}
{{- fail "store etcd needs etcd.endpoints" }}
{{- end }}
{{- if not .Values.masterKey.existingSecret }}
{{- fail "store etcd needs masterKey.existingSecret: every replica must share the master key" }}
{{- end }}
{{- if not .Values.credentials.existingSecret }}
{{- fail "store etcd needs credentials.existingSecret: every replica must share the service credentials" }}
{{- end }}
{{- if and .Values.etcd.auth.username (not .Values.etcd.auth.existingSecret) }}
{{- fail "etcd.auth.username needs etcd.auth.existingSecret (key password)" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The pod template shared by the StatefulSet (bbolt) and the Deployment (etcd). */}}
{{- define "tokenauthority.podTemplate" -}}
metadata:
  labels:
    {{- include "tokenauthority.labels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.podAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  serviceAccountName: {{ include "tokenauthority.serviceAccountName" . }}
  automountServiceAccountToken: false
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  containers:
    - name: tokenauthority
      image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - --store={{ .Values.store }}
        - --log-level={{ .Values.logLevel }}
        - --log-format={{ .Values.logFormat }}
        {{- if .Values.credentials.existingSecret }}
        - --credentials-file=/etc/tokenauthority/credentials/{{ .Values.credentials.key }}
        {{- end }}
        {{- if eq .Values.store "etcd" }}
        - --etcd-endpoints={{ join "," .Values.etcd.endpoints }}
        - --etcd-prefix={{ .Values.etcd.prefix }}
        - --max-staleness={{ .Values.etcd.maxStaleness }}
        {{- if .Values.etcd.tls.existingSecret }}
        - --etcd-ca=/etc/tokenauthority/etcd-tls/ca.crt
        {{- if .Values.etcd.tls.clientCertificate }}
        - --etcd-cert=/etc/tokenauthority/etcd-tls/tls.crt
        - --etcd-key=/etc/tokenauthority/etcd-tls/tls.key
        {{- end }}
        {{- end }}
        {{- if .Values.etcd.auth.username }}
        - --etcd-username={{ .Values.etcd.auth.username }}
        - --etcd-password-file=/etc/tokenauthority/etcd-auth/password
        {{- end }}
        {{- end }}
        {{- range .Values.extraArgs }}
        - {{ . | quote }}
        {{- end }}
      env:
        - name: TOKENAUTHORITY_DATA_DIR
          value: /data
        - name: TOKENAUTHORITY_GRPC_ADDR
          value: "0.0.0.0:50051"
        - name: TOKENAUTHORITY_HTTP_ADDR
          value: "0.0.0.0:8080"
        {{- if .Values.masterKey.existingSecret }}
        - name: TOKENAUTHORITY_MASTER_KEY
          valueFrom:
            secretKeyRef:
              name: {{ .Values.masterKey.existingSecret }}
              key: {{ .Values.masterKey.key }}
        {{- end }}
        {{- with .Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        - name: grpc
          containerPort: 50051
          protocol: TCP
        - name: http
          containerPort: 8080
          protocol: TCP
      startupProbe:
        httpGet:
          path: /healthz
          port: http
        {{- toYaml .Values.startupProbe | nindent 8 }}
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        {{- toYaml .Values.livenessProbe | nindent 8 }}
      readinessProbe:
        httpGet:
          path: /readyz
          port: http
        {{- toYaml .Values.readinessProbe | nindent 8 }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      {{- with .Values.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: data
          mountPath: /data
        {{- if .Values.credentials.existingSecret }}
        - name: credentials
          mountPath: /etc/tokenauthority/credentials
          readOnly: true
        {{- end }}
        {{- if and (eq .Values.store "etcd") .Values.etcd.tls.existingSecret }}
        - name: etcd-tls
          mountPath: /etc/tokenauthority/etcd-tls
          readOnly: true
        {{- end }}
        {{- if and (eq .Values.store "etcd") .Values.etcd.auth.username }}
        - name: etcd-auth
          mountPath: /etc/tokenauthority/etcd-auth
          readOnly: true
        {{- end }}
  volumes:
    {{- if eq .Values.store "etcd" }}
    # etcd mode keeps no state in the pod; the server still needs a
    # writable data directory on a read-only root file system.
    - name: data
      emptyDir:
        sizeLimit: 64Mi
    {{- end }}
    {{- if .Values.credentials.existingSecret }}
    - name: credentials
      secret:
        secretName: {{ .Values.credentials.existingSecret }}
        items:
          - key: {{ .Values.credentials.key }}
            path: {{ .Values.credentials.key }}
    {{- end }}
    {{- if and (eq .Values.store "etcd") .Values.etcd.tls.existingSecret }}
    - name: etcd-tls
      secret:
        secretName: {{ .Values.etcd.tls.existingSecret }}
        defaultMode: 0440
    {{- end }}
    {{- if and (eq .Values.store "etcd") .Values.etcd.auth.username }}
    - name: etcd-auth
      secret:
        secretName: {{ .Values.etcd.auth.existingSecret }}
        defaultMode: 0440
        items:
          - key: password
            path: password
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
