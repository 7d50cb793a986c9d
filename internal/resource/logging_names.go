package resource

import "fmt"

// KibanaPath is the Ingress path (and Kibana's server.basePath) Kibana is served under.
const KibanaPath = "/kibana"

// Ports of the logging stack.
const (
	ElasticsearchHTTPPort      = 9200
	ElasticsearchTransportPort = 9300
	KibanaPort                 = 5601
)

// LabelNamespace marks the cluster-scoped children (Fluentd's ClusterRoleBinding) with
// the namespace of the LittleEcom they belong to; with app.kubernetes.io/instance it maps
// them back to their owner, which an owner reference cannot do across scopes.
const LabelNamespace = "littleecom.io/namespace"

// Elasticsearch is the StatefulSet and client Service name.
func (n Names) Elasticsearch() string { return n.prefixed(ComponentElasticsearch) }

// ElasticsearchHeadless gives the nodes stable DNS names for discovery.
func (n Names) ElasticsearchHeadless() string { return n.prefixed("elasticsearch-headless") }

// ElasticsearchCredentialsSecret holds the generated passwords of the elastic superuser,
// kibana_system and the Fluentd writer.
func (n Names) ElasticsearchCredentialsSecret() string {
	return n.prefixed("elasticsearch-credentials")
}

// ElasticsearchTransportSecret holds the certificate the nodes authenticate each other with.
func (n Names) ElasticsearchTransportSecret() string { return n.prefixed("elasticsearch-transport") }

// elasticsearchPodName is the name of node i.
func (n Names) elasticsearchPodName(i int32) string {
	return fmt.Sprintf("%s-%d", n.Elasticsearch(), i)
}

// Kibana is the Deployment and Service name.
func (n Names) Kibana() string { return n.prefixed(ComponentKibana) }

// Fluentd is the DaemonSet, ConfigMap and ServiceAccount name.
func (n Names) Fluentd() string { return n.prefixed(ComponentFluentd) }

// FluentdClusterRole names the ClusterRoleBinding of a shop's Fluentd (and the ClusterRole
// operators before this release created). They are cluster-scoped, so the namespace is part
// of the name: two shops of the same name in two namespaces must not share (or delete)
// each other's.
func (n Names) FluentdClusterRole() string {
	return fmt.Sprintf("littleecom-%s-%s-fluentd", n.Namespace, n.Instance)
}

// FluentdStateDir is the host directory, one per shop, where Fluentd keeps what must
// survive a restart of its pod: the position file (how far it read each log file) and the
// output buffer (logs not yet in Elasticsearch). It is outside /var/log, which Fluentd
// mounts read-only, and one per shop, so two shops' Fluentds on one node do not overwrite
// each other's positions.
func (n Names) FluentdStateDir() string {
	return fmt.Sprintf("/var/lib/littleecom/fluentd/%s-%s", n.Namespace, n.Instance)
}

// fluentdStateMount is where the pod sees FluentdStateDir.
const fluentdStateMount = "/var/lib/littleecom-fluentd"

// FluentdPosFile is the position file's path in Fluentd's container.
func (n Names) FluentdPosFile() string { return fluentdStateMount + "/containers.pos" }

// FluentdBufferDir is the output buffer's directory in Fluentd's container.
func (n Names) FluentdBufferDir() string { return fluentdStateMount + "/buffer" }

// FluentdLogPath is the glob of the container log files of this shop's namespace only:
// kubelet names them <pod>_<namespace>_<container>-<id>.log.
func (n Names) FluentdLogPath() string {
	return fmt.Sprintf("/var/log/containers/*_%s_*.log", n.Namespace)
}

// LoggingEnabled says whether the spec asks for the EFK stack.
func (s *Shop) LoggingEnabled() bool { return s.Instance.Spec.Logging.Enabled }

// KibanaExposed says whether the edge publishes Kibana at KibanaPath: logging is on and
// spec.logging.kibana.expose asks for it (the CRD refuses it without TLS unless the spec
// says allowPlainHTTP).
func (s *Shop) KibanaExposed() bool {
	return s.LoggingEnabled() && s.Instance.Spec.Logging.Kibana.Expose
}

// optional makes a builder Optional: disabled, the reconciler deletes its child.
type optional struct {
	Builder
	enabled bool
}

// Enabled implements Optional.
func (o optional) Enabled() bool { return o.enabled }

// KibanaService returns the name and port of Kibana's Service, for the edge's /kibana path.
func (s *Shop) KibanaService() (name string, port int32) { return s.Names.Kibana(), KibanaPort }
