package controllers

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"littleecom.io/littleecom/internal/resource"
)

// +kubebuilder:rbac:groups=monitoring.coreos.com,resources=servicemonitors;podmonitors,verbs=get;list;watch;create;update;patch;delete

// newPrometheusOperator knows whether the cluster serves ServiceMonitors and PodMonitors
// (monitoring.coreos.com/v1; optionalKinds), and once it does watches the monitors the
// shops own, so one deleted or edited by hand is put back. The monitors are unstructured
// objects (internal/resource/monitors.go): the scheme needs no Prometheus Operator types.
func newPrometheusOperator(mgr ctrl.Manager) *optionalKinds {
	return newOptionalKinds(mgr, "Prometheus Operator", true, resource.MonitorKinds...)
}

// cacheReads is a client whose Get reads from the informer cache: the manager's client
// reads unstructured objects (the monitors) from the API server on every call, which for
// four monitors per shop and reconcile is needless load. Writes go through the wrapped
// client. The cache starts a kind's informer on its first read, which happens only once
// the CRDs exist.
type cacheReads struct {
	client.Client
	cache client.Reader
}

// Get implements client.Reader.
func (c cacheReads) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return c.cache.Get(ctx, key, obj, opts...)
}
