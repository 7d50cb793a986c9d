package resource

import (
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"littleecom.io/littleecom/internal/contract"
)

// The Prometheus Operator's monitors are built as unstructured objects, not from its Go
// module (github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring): `go get`
// of its v0.95.2 moves k8s.io/utils, k8s.io/kube-openapi, go-logr/logr and fxamacker/cbor,
// which the operator's k8s.io and controller-runtime versions pin. The handful of fields
// set here are stable since monitoring.coreos.com/v1 (2018).

// Prometheus Operator kinds the operator creates.
var (
	ServiceMonitorGVK = schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: "ServiceMonitor"}
	PodMonitorGVK     = schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: "PodMonitor"}
	// MonitorKinds must all be served before spec.monitoring can be.
	MonitorKinds = []schema.GroupVersionKind{ServiceMonitorGVK, PodMonitorGVK}
)

// RabbitMQDetailedQueueMetricsPath and its family give per-queue depths
// (rabbitmq_detailed_queue_messages{queue=...}): the plain /metrics of rabbitmq_prometheus
// aggregates every queue into one series unless per-object metrics are switched on for the
// whole node, which costs on every scrape.
const (
	RabbitMQDetailedQueueMetricsPath = "/metrics/detailed"
	RabbitMQDetailedQueueFamily      = "queue_coarse_metrics"
)

// monitorTargetLabels copies the shop's name from each scraped Service or pod onto its
// series (as app_kubernetes_io_instance), so that a dashboard tells two shops of one
// namespace apart; the Grafana dashboard (config/grafana) selects on it.
var monitorTargetLabels = []any{LabelInstance}

// monitorEndpoint is one scrape of a monitor.
type monitorEndpoint struct {
	port, path string
	params     map[string][]any
	// honorLabels keeps the target's own labels where they clash with Prometheus's: the
	// shop services label every series service=<backend|auth|notifier>, which a
	// ServiceMonitor's target label service=<Service name> would otherwise rename.
	honorLabels bool
}

// monitorBuilder is a ServiceMonitor or a PodMonitor selecting one component's Services or
// pods. It is Optional: without spec.monitoring the reconciler deletes it.
type monitorBuilder struct {
	shop      *Shop
	gvk       schema.GroupVersionKind
	component string
	endpoints []monitorEndpoint
}

var _ Optional = (*monitorBuilder)(nil)

// Monitors are the monitors spec.monitoring asks for, by component: ServiceMonitors where a
// Service publishes the metrics port (RabbitMQ's prometheus port, the notifier's management
// port), PodMonitors where none does (backend and auth keep their management port off
// their Services, so that no route can reach it).
func (s *Shop) Monitors() []Builder {
	management := monitorEndpoint{port: managementPortName, path: contract.PathMetrics, honorLabels: true}
	return []Builder{
		&monitorBuilder{shop: s, gvk: ServiceMonitorGVK, component: ComponentRabbitMQ, endpoints: []monitorEndpoint{
			{port: rabbitMQPrometheusPortName, path: contract.PathMetrics},
			{port: rabbitMQPrometheusPortName, path: RabbitMQDetailedQueueMetricsPath,
				params: map[string][]any{"family": {RabbitMQDetailedQueueFamily}}},
		}},
		&monitorBuilder{shop: s, gvk: ServiceMonitorGVK, component: ComponentNotifier, endpoints: []monitorEndpoint{management}},
		&monitorBuilder{shop: s, gvk: PodMonitorGVK, component: ComponentBackend, endpoints: []monitorEndpoint{management}},
		&monitorBuilder{shop: s, gvk: PodMonitorGVK, component: ComponentAuth, endpoints: []monitorEndpoint{management}},
	}
}

// MonitoringEnabled says whether spec.monitoring asks for monitors.
func (s *Shop) MonitoringEnabled() bool { return s.Instance.Spec.Monitoring != nil }

// Enabled implements Optional.
func (b *monitorBuilder) Enabled() bool { return b.shop.MonitoringEnabled() }

// Build implements Builder.
func (b *monitorBuilder) Build() client.Object {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(b.gvk)
	u.SetName(b.shop.Names.Monitor(b.component))
	u.SetNamespace(b.shop.Instance.Namespace)
	return u
}

// Update implements Builder. It sets the fields it owns one by one and keeps the rest, so
// that defaults a newer CRD adds survive and an unchanged monitor needs no write.
func (b *monitorBuilder) Update(obj client.Object) error {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok || u.GroupVersionKind() != b.gvk {
		return typeError(b.gvk.Kind, obj)
	}
	s := b.shop
	labels := u.GetLabels()
	if spec := s.Instance.Spec.Monitoring; spec != nil {
		for k, v := range spec.Labels {
			mergeInto(&labels, map[string]string{k: string(v)})
		}
	}
	u.SetLabels(labels)
	if err := s.setOwnerAndLabels(u, b.component); err != nil {
		return err
	}
	selector := map[string]any{}
	for k, v := range SelectorLabels(s.Instance.Name, b.component) {
		selector[k] = v
	}
	spec, _, _ := unstructured.NestedMap(u.Object, "spec")
	if spec == nil {
		spec = map[string]any{}
	}
	spec["selector"] = map[string]any{"matchLabels": selector}
	spec["namespaceSelector"] = map[string]any{"matchNames": []any{s.Instance.Namespace}}
	endpointsKey, targetLabelsKey := "endpoints", "targetLabels"
	if b.gvk == PodMonitorGVK {
		endpointsKey, targetLabelsKey = "podMetricsEndpoints", "podTargetLabels"
	}
	spec[targetLabelsKey] = slices.Clone(monitorTargetLabels)
	existing, _ := spec[endpointsKey].([]any)
	endpoints := make([]any, len(b.endpoints))
	for i, e := range b.endpoints {
		ep := map[string]any{}
		if i < len(existing) {
			if m, ok := existing[i].(map[string]any); ok {
				ep = maps.Clone(m)
			}
		}
		b.setEndpoint(ep, e)
		endpoints[i] = ep
	}
	spec[endpointsKey] = endpoints
	u.Object["spec"] = spec
	return nil
}

// setEndpoint sets an endpoint's fields, removing those the spec no longer asks for.
func (b *monitorBuilder) setEndpoint(ep map[string]any, e monitorEndpoint) {
	ep["port"] = e.port
	ep["path"] = e.path
	ep["scheme"] = "http"
	setOrDelete(ep, "honorLabels", e.honorLabels, e.honorLabels)
	setOrDelete(ep, "params", toParams(e.params), len(e.params) > 0)
	interval := ""
	if spec := b.shop.Instance.Spec.Monitoring; spec != nil {
		interval = spec.Interval
	}
	setOrDelete(ep, "interval", interval, interval != "")
}

func setOrDelete(m map[string]any, key string, value any, set bool) {
	if set {
		m[key] = value
	} else {
		delete(m, key)
	}
}

// toParams is params as unstructured content (map[string]any of []any).
func toParams(params map[string][]any) map[string]any {
	out := make(map[string]any, len(params))
	for k, v := range params {
		out[k] = slices.Clone(v)
	}
	return out
}

// rabbitMQPrometheusPortName names RabbitMQ's metrics port on its container and Service.
const rabbitMQPrometheusPortName = "prometheus"

// Monitor is the name of a component's ServiceMonitor or PodMonitor.
func (n Names) Monitor(component string) string { return n.prefixed(component) }
