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

// LabelNamespace marks the cluster-scoped children (Fluentd's ClusterRole and binding) with
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

// FluentdClusterRole names the ClusterRole and ClusterRoleBinding of a shop's Fluentd. They
// are cluster-scoped, so the namespace is part of the name: two shops of the same name in
// two namespaces must not share (or delete) each other's.
func (n Names) FluentdClusterRole() string {
	return fmt.Sprintf("littleecom-%s-%s-fluentd", n.Namespace, n.Instance)
}

// FluentdPosFile is the host path where Fluentd remembers how far it read each log file;
// one per shop, so two shops' Fluentds on one node do not overwrite each other's positions.
func (n Names) FluentdPosFile() string {
	return fmt.Sprintf("/var/log/fluentd-%s-%s.pos", n.Namespace, n.Instance)
}

// FluentdBufferDir is the host directory of a shop's Fluentd output buffer; on the host so
// that buffered logs survive a restart of the pod.
func (n Names) FluentdBufferDir() string {
	return fmt.Sprintf("/var/log/fluentd-buffers/%s-%s", n.Namespace, n.Instance)
}

// FluentdLogPath is the glob of the container log files of this shop's namespace only:
// kubelet names them <pod>_<namespace>_<container>-<id>.log.
func (n Names) FluentdLogPath() string {
	return fmt.Sprintf("/var/log/containers/*_%s_*.log", n.Namespace)
}

// LoggingEnabled says whether the spec asks for the EFK stack.
func (s *Shop) LoggingEnabled() bool { return s.Instance.Spec.Logging.Enabled }

// optional makes a builder Optional: disabled, the reconciler deletes its child.
type optional struct {
	Builder
	enabled bool
}

// Enabled implements Optional.
func (o optional) Enabled() bool { return o.enabled }

// KibanaService returns the name and port of Kibana's Service, for the Ingress's /kibana path.
func (s *Shop) KibanaService() (name string, port int32) { return s.Names.Kibana(), KibanaPort }
