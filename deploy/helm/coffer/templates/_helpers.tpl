{{- define "coffer.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "coffer.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "coffer.labels" -}}
{{ include "coffer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "coffer.checkValues" -}}
{{- if not (has .Values.mode (list "single" "cluster")) -}}
{{- fail "mode must be single or cluster" -}}
{{- end -}}
{{- if eq .Values.mode "cluster" -}}
{{- if not .Values.masterKey.secretName -}}
{{- fail "cluster mode: set masterKey.secretName (every node needs the same master key)" -}}
{{- end -}}
{{- if not .Values.cluster.metadata.secretName -}}
{{- fail "cluster mode: set cluster.metadata.secretName (PostgreSQL URL)" -}}
{{- end -}}
{{- if not .Values.cluster.blobs -}}
{{- fail "cluster mode: set cluster.blobs (s3://bucket/prefix?...)" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The pod template of both modes. */}}
{{- define "coffer.podTemplate" -}}
{{- $scheme := ternary "HTTPS" "HTTP" .Values.tls.enabled -}}
metadata:
  labels:
    {{- include "coffer.labels" . | nindent 4 }}
  {{- with .Values.podAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- with .Values.serviceAccountName }}
  serviceAccountName: {{ . }}
  {{- end }}
  automountServiceAccountToken: false
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    fsGroup: 65532
    fsGroupChangePolicy: OnRootMismatch
    seccompProfile:
      type: RuntimeDefault
  terminationGracePeriodSeconds: 300 # in-flight uploads finish on SIGTERM
  containers:
    - name: coffer
      image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args: ["serve"]
      env:
        - name: COFFER_LISTEN
          value: "0.0.0.0:8080"
        - name: COFFER_DATA_DIR
          value: /data
        - name: COFFER_REGION
          value: {{ .Values.region | quote }}
        - name: COFFER_LOG_LEVEL
          value: {{ .Values.logLevel | quote }}
        {{- with .Values.publicURL }}
        - name: COFFER_PUBLIC_URL
          value: {{ . | quote }}
        {{- end }}
        {{- if .Values.tls.enabled }}
        - name: COFFER_TLS_CERT
          value: /etc/coffer/tls/tls.crt
        - name: COFFER_TLS_KEY
          value: /etc/coffer/tls/tls.key
        {{- end }}
        {{- if eq .Values.mode "cluster" }}
        - name: COFFER_METADATA
          valueFrom:
            secretKeyRef:
              name: {{ .Values.cluster.metadata.secretName }}
              key: {{ .Values.cluster.metadata.secretKey }}
        - name: COFFER_BLOBS
          value: {{ .Values.cluster.blobs | quote }}
        {{- end }}
        {{- with .Values.masterKey.secretName }}
        - name: COFFER_MASTER_KEY
          valueFrom:
            secretKeyRef:
              name: {{ . }}
              key: {{ $.Values.masterKey.secretKey }}
        {{- end }}
        {{- with .Values.rootCredentials.secretName }}
        - name: COFFER_ROOT_ACCESS_KEY_ID
          valueFrom:
            secretKeyRef: {name: {{ . }}, key: access-key-id}
        - name: COFFER_ROOT_SECRET_ACCESS_KEY
          valueFrom:
            secretKeyRef: {name: {{ . }}, key: secret-access-key}
        {{- end }}
        {{- range $k, $v := .Values.extraEnv }}
        - name: {{ $k }}
          value: {{ $v | quote }}
        {{- end }}
      {{- if and (eq .Values.mode "cluster") .Values.cluster.s3CredentialsSecret }}
      envFrom:
        - secretRef:
            name: {{ .Values.cluster.s3CredentialsSecret }}
      {{- end }}
      ports:
        - name: http
          containerPort: 8080
          protocol: TCP
      startupProbe:
        httpGet: {path: /healthz, port: http, scheme: {{ $scheme }}}
        periodSeconds: 2
        failureThreshold: 150
      livenessProbe:
        httpGet: {path: /healthz, port: http, scheme: {{ $scheme }}}
        periodSeconds: 10
        timeoutSeconds: 5
        failureThreshold: 3
      readinessProbe:
        httpGet: {path: /readyz, port: http, scheme: {{ $scheme }}}
        periodSeconds: 5
        timeoutSeconds: 3
        failureThreshold: 2
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        privileged: false
        capabilities:
          drop: [ALL]
      {{- with .Values.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: data
          mountPath: /data
        - name: tmp
          mountPath: /tmp
        {{- if .Values.tls.enabled }}
        - name: tls
          mountPath: /etc/coffer/tls
          readOnly: true
        {{- end }}
  volumes:
    - name: tmp
      emptyDir: {}
    {{- if eq .Values.mode "cluster" }}
    - name: data # nodes are stateless: everything that matters is in PostgreSQL and S3
      emptyDir: {}
    {{- end }}
    {{- if .Values.tls.enabled }}
    - name: tls
      secret:
        secretName: {{ .Values.tls.secretName }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
