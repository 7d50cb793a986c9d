package v1

// MonitoringSpec asks for Prometheus Operator monitors of the shop's metrics: a
// ServiceMonitor for RabbitMQ's Prometheus port (15692) and the notifier's management
// port, and PodMonitors for the backend's and auth's management ports (their Services
// publish only the API, so no Service carries those ports). The monitors need the
// Prometheus Operator's CRDs (monitoring.coreos.com/v1); without them MonitoringReady says
// so and they are created once the CRDs appear. A Prometheus outside the shop's namespace
// also needs spec.networkPolicy.metricsNamespace to reach the pods.
type MonitoringSpec struct {
	// labels are added to every monitor, so that a Prometheus's serviceMonitorSelector and
	// podMonitorSelector pick them up (e.g. release: kube-prometheus-stack). They cannot
	// replace the operator's app.kubernetes.io/ labels.
	// +kubebuilder:validation:MaxProperties=16
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) <= 316 && k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$'))",message="monitoring.labels keys must be label keys: an optional DNS-subdomain prefix and '/', then a name of up to 63 letters, digits, '-', '_' or '.' that starts and ends with a letter or digit"
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('app.kubernetes.io/'))",message="monitoring.labels cannot set app.kubernetes.io/ labels: the operator sets those on every child"
	// +optional
	Labels map[string]LabelValue `json:"labels,omitempty"`

	// interval between scrapes, a Prometheus duration such as 30s or 1m; empty uses the
	// Prometheus's scrapeInterval.
	// +kubebuilder:validation:MinLength=2
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$`
	// +optional
	Interval string `json:"interval,omitempty"`
}

// LabelValue is a Kubernetes label value: up to 63 letters, digits, '-', '_' or '.',
// starting and ending with a letter or digit, or empty.
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:Pattern=`^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$`
type LabelValue string

// Monitoring reasons for ConditionMonitoringReady.
const (
	// ReasonPrometheusOperatorNotInstalled: spec.monitoring asks for monitors but the
	// cluster has no Prometheus Operator CRDs (monitoring.coreos.com/v1 ServiceMonitor and
	// PodMonitor). Nothing fails: the monitors are created once the CRDs appear.
	ReasonPrometheusOperatorNotInstalled = "PrometheusOperatorNotInstalled"
)

// ConditionMonitoringReady says whether the monitors spec.monitoring asks for exist. It is
// present only while spec.monitoring is set, and does not count towards Ready: monitors
// serve no shopper, so a cluster without a Prometheus Operator leaves a serving shop Ready.
const ConditionMonitoringReady = "MonitoringReady"
