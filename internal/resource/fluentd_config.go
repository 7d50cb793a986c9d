package resource

import (
	"bytes"
	"text/template"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FluentdConfKey is the configuration file in Fluentd's ConfigMap.
const FluentdConfKey = "fluent.conf"

// Fluentd's output buffer bounds: at most fluentdBufferTotal of logs wait on each node's disk
// while Elasticsearch is unreachable.
const (
	fluentdBufferTotal = "512MB"
	fluentdBufferChunk = "8MB"
	// FluentdMonitorPort serves monitor_agent, which the probes read. It listens on the
	// pod's address only (the kubelet probes that), not on 0.0.0.0.
	FluentdMonitorPort = 24220
)

// CRILogExpression parses a line of the CRI log format containerd and CRI-O write:
// `<RFC3339Nano time> <stdout|stderr> <P|F> <message>`, where logtag P marks a partial line
// that the next one continues. It is in Ruby syntax, as fluent.conf needs it.
const CRILogExpression = `^(?<time>[^ ]+) (?<stream>stdout|stderr) (?<logtag>[^ ]*) (?<log>.*)$`

// fluentdConfigBuilder is the ConfigMap with fluent.conf.
type fluentdConfigBuilder struct {
	shop   *Shop
	access FluentdAccess
}

// FluentdConfigMap returns the builder of ConfigMap `<n>-fluentd`; access decides how the
// metadata filter reads the API.
func (s *Shop) FluentdConfigMap(access FluentdAccess) Builder {
	return optional{Builder: &fluentdConfigBuilder{shop: s, access: access}, enabled: s.LoggingEnabled()}
}

// Build implements Builder.
func (b *fluentdConfigBuilder) Build() client.Object {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: b.shop.Names.Fluentd(), Namespace: b.shop.Instance.Namespace}}
}

// Update implements Builder.
func (b *fluentdConfigBuilder) Update(obj client.Object) error {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return typeError("ConfigMap", obj)
	}
	if err := b.shop.setOwnerAndLabels(cm, ComponentFluentd); err != nil {
		return err
	}
	conf, err := b.shop.FluentdConf(b.access)
	if err != nil {
		return err
	}
	cm.Data = map[string]string{FluentdConfKey: conf}
	return nil
}

// FluentdConf renders fluent.conf for this shop.
//
// Pipeline: tail this namespace's container log files (minus Fluentd's own, which would
// otherwise feed back its complaints about Elasticsearch) and parse each line as Docker's
// JSON or as CRI; join CRI partial lines; add Kubernetes metadata; parse the message as JSON
// when it is JSON (our services log slog JSON), keeping it as text otherwise; ship to
// Elasticsearch through a bounded file buffer.
//
// Docker lines start with `{` and are tried first; a CRI line never parses as JSON, so the
// regexp takes it. Without the CRI pattern every containerd line fails with "pattern not
// matched", the most reported Fluentd-on-Kubernetes failure.
//
// The buffer drops its oldest chunk when full rather than blocking: blocking stalls the
// tail input while kubelet keeps rotating the files away, so it loses logs anyway, and
// the oldest, not the newest, lines are the ones to lose during an incident.
//
// Without cluster-wide access (the default, see FluentdAccess) the metadata filter fetches
// each pod by name (`watch false`, which needs only get on pods of this namespace) and skips
// namespace metadata (namespaces are cluster-scoped).
func (s *Shop) FluentdConf(access FluentdAccess) (string, error) {
	var buf bytes.Buffer
	err := fluentdTemplate.Execute(&buf, map[string]any{
		"Namespace":   s.Instance.Namespace,
		"Instance":    s.Instance.Name,
		"Path":        s.Names.FluentdLogPath(),
		"ExcludePath": "/var/log/containers/" + s.Names.Fluentd() + "-*_" + s.Instance.Namespace + "_*.log",
		"PosFile":     s.Names.FluentdPosFile(),
		"BufferDir":   s.Names.FluentdBufferDir(),
		"CRI":         CRILogExpression,
		"ESHost":      s.Names.ServiceHost(s.Names.Elasticsearch()),
		"ESPort":      ElasticsearchHTTPPort,
		"User":        FluentdESUser,
		"IndexPrefix": LogIndexPrefix,
		"Total":       fluentdBufferTotal,
		"Chunk":       fluentdBufferChunk,
		"Monitor":     FluentdMonitorPort,
		"PodIPEnv":    fluentdPodIPEnv,
		"ClusterWide": access.ClusterWide(),
	})
	return buf.String(), err
}

var fluentdTemplate = template.Must(template.New("fluent.conf").Parse(`# fluent.conf of LittleEcom {{.Instance}} in namespace {{.Namespace}}, written by the operator:
# edits are overwritten.

<system>
  log_level info
</system>

# Fluentd's own events (its log) are not shipped.
<match fluent.**>
  @type null
</match>

<source>
  @type monitor_agent
  @id in_monitor_agent
  # The pod's address only: the kubelet probes it there, and nothing else needs it.
  bind "#{ENV['{{.PodIPEnv}}']}"
  port {{.Monitor}}
</source>

<source>
  @type tail
  @id in_tail_container_logs
  path {{.Path}}
  exclude_path ["{{.ExcludePath}}"]
  pos_file {{.PosFile}}
  tag kubernetes.*
  read_from_head true
  follow_inodes true
  refresh_interval 10
  <parse>
    @type multi_format
    <pattern>
      format json
      time_key time
      time_type string
      time_format %Y-%m-%dT%H:%M:%S.%NZ
      keep_time_key false
    </pattern>
    <pattern>
      format regexp
      expression /{{.CRI}}/
      time_key time
      time_type string
      time_format %Y-%m-%dT%H:%M:%S.%N%:z
      keep_time_key false
    </pattern>
  </parse>
</source>

# CRI splits long lines into partial ones (logtag P) ended by a full one (logtag F).
<filter kubernetes.**>
  @type concat
  @id filter_concat_cri_partials
  key log
  partial_key logtag
  partial_value P
  separator ""
</filter>

<filter kubernetes.**>
  @type kubernetes_metadata
  @id filter_kubernetes_metadata
  skip_master_url true
{{- if not .ClusterWide}}
  # Only this namespace's pods may be read, one by name: no watch, no namespace metadata.
  watch false
  skip_namespace_metadata true
{{- end}}
</filter>

# Our services log one JSON object per line: lift its fields into the record.
<filter kubernetes.**>
  @type parser
  @id filter_parse_json_log
  key_name log
  reserve_data true
  remove_key_name_field true
  emit_invalid_record_to_error false
  <parse>
    @type json
    time_key time
    time_type string
    keep_time_key true
  </parse>
</filter>

<match kubernetes.**>
  @type elasticsearch
  @id out_elasticsearch
  scheme http
  host {{.ESHost}}
  port {{.ESPort}}
  user "#{ENV['FLUENT_ELASTICSEARCH_USER']}"
  password "#{ENV['FLUENT_ELASTICSEARCH_PASSWORD']}"
  logstash_format true
  logstash_prefix {{.IndexPrefix}}
  suppress_type_name true
  # Start without asking Elasticsearch its version: it may not be up (or Fluentd's user may
  # not exist yet); records wait in the buffer meanwhile.
  verify_es_version_at_startup false
  default_elasticsearch_version 8
  include_tag_key true
  reconnect_on_error true
  reload_connections false
  reload_on_failure false
  request_timeout 15s
  log_es_400_reason true
  <buffer>
    @type file
    path {{.BufferDir}}/elasticsearch.buffer
    flush_mode interval
    flush_interval 5s
    flush_thread_count 2
    chunk_limit_size {{.Chunk}}
    total_limit_size {{.Total}}
    overflow_action drop_oldest_chunk
    retry_type exponential_backoff
    retry_max_interval 60s
    retry_forever true
  </buffer>
</match>
`))
