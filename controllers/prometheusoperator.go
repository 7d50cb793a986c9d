package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// +kubebuilder:rbac:groups=monitoring.coreos.com,resources=servicemonitors;podmonitors,verbs=get;list;watch;create;update;patch;delete

// prometheusOperatorRecheck is how often a cluster without the Prometheus Operator's CRDs
// is asked again while a shop wants monitors, and how soon that shop is reconciled again.
const prometheusOperatorRecheck = 30 * time.Second

// prometheusOperator knows whether the cluster serves ServiceMonitors and PodMonitors
// (monitoring.coreos.com/v1), as gatewayAPI does for HTTPRoutes: the operator runs as usual
// without them, watches neither kind (an informer on a missing kind would fail the manager)
// and reports a shop that asks for monitors. It checks at setup and, while absent, again at
// most every recheck when a shop asks; once both CRDs appear it starts watching the
// monitors the shops own, so one deleted or edited by hand is put back.
//
// The monitors are unstructured objects (internal/resource/monitors.go), so the scheme
// needs no Prometheus Operator types: discovery through the RESTMapper decides alone.
type prometheusOperator struct {
	mgr     ctrl.Manager
	recheck time.Duration

	mu          sync.Mutex
	installed   bool
	lastChecked time.Time
	controller  controller.Controller // set after Build; receives the watches
	watching    map[string]bool       // monitor kinds watched so far
}

func newPrometheusOperator(mgr ctrl.Manager) *prometheusOperator {
	p := &prometheusOperator{mgr: mgr, recheck: prometheusOperatorRecheck, watching: map[string]bool{}}
	p.installed = p.lookup(context.Background())
	p.lastChecked = time.Now()
	return p
}

// lookup asks the API server (through the manager's RESTMapper) whether both kinds exist.
func (p *prometheusOperator) lookup(ctx context.Context) bool {
	log := ctrl.LoggerFrom(ctx).WithName("prometheus-operator")
	for _, gvk := range resource.MonitorKinds {
		_, err := p.mgr.GetRESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
		switch {
		case err == nil:
			continue
		case meta.IsNoMatchError(err):
			log.Info("Prometheus Operator CRDs not installed; spec.monitoring cannot be served until they are", "missing", gvk.Kind)
		default:
			log.Error(err, "looking up a Prometheus Operator kind; assuming it is not installed", "kind", gvk.Kind)
		}
		return false
	}
	log.Info("Prometheus Operator CRDs found; ServiceMonitors and PodMonitors enabled")
	return true
}

// Installed reports whether ServiceMonitors and PodMonitors can be served, checking again
// (throttled) while they could not. A nil prometheusOperator (reconciler not set up
// through SetupWithManager) reports none.
func (p *prometheusOperator) Installed(ctx context.Context) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.installed && time.Since(p.lastChecked) >= p.recheck {
		p.lastChecked = time.Now()
		p.installed = p.lookup(ctx)
	}
	if p.installed {
		if err := p.watch(); err != nil {
			// Serving works without the watch; only hand edits go unnoticed until the next
			// reconcile. Tried again on the next call.
			ctrl.LoggerFrom(ctx).Error(err, "watching the shops' monitors")
		}
	}
	return p.installed
}

// watch adds a watch per monitor kind to the running controller: a monitor deleted or
// edited by hand reconciles its shop. Without a controller (set up later) it does nothing.
func (p *prometheusOperator) watch() error {
	if p.controller == nil {
		return nil
	}
	for _, gvk := range resource.MonitorKinds {
		if p.watching[gvk.Kind] {
			continue
		}
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(gvk)
		src := source.Kind[client.Object](p.mgr.GetCache(), obj,
			handler.EnqueueRequestForOwner(p.mgr.GetScheme(), p.mgr.GetRESTMapper(), &shopv1.LittleEcom{}, handler.OnlyControllerOwner()))
		if err := p.controller.Watch(src); err != nil {
			return fmt.Errorf("watching %s: %w", gvk.Kind, err)
		}
		p.watching[gvk.Kind] = true
	}
	return nil
}

// setController hands over the built controller, which receives the monitor watches.
func (p *prometheusOperator) setController(c controller.Controller) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.controller = c
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

// recheckInterval is how long a shop waits before the CRDs are looked for again.
func (p *prometheusOperator) recheckInterval() time.Duration {
	if p == nil {
		return prometheusOperatorRecheck
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.recheck
}
