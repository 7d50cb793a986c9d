package controllers

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// optionalKindsRecheck is how often a cluster without some optional kinds is asked again
// while a shop needs them, and how soon that shop is reconciled again to pick them up.
const optionalKindsRecheck = 30 * time.Second

// optionalKinds knows whether the cluster serves kinds the operator runs without when they
// are missing: the Gateway API's HTTPRoute, cert-manager's Certificate, the Prometheus
// Operator's monitors. The API server's discovery (the manager's RESTMapper) answers, at
// setup and, while a kind is missing, again at most every recheck when a shop needs them.
// An informer on a missing kind would fail the manager, so kinds the shops own are watched
// only once they exist: watchOwned starts that watch on the running controller (again on
// later calls until it succeeds; serving does not wait for it, only hand edits go unnoticed
// until the next reconcile).
type optionalKinds struct {
	mgr   ctrl.Manager
	what  string // for the log, e.g. "Gateway API"
	kinds []schema.GroupVersionKind
	// owned: the shops own objects of these kinds, and watching them puts back one deleted
	// or edited by hand.
	owned bool
	// recheck is optionalKindsRecheck; tests shorten it.
	recheck time.Duration

	mu          sync.Mutex
	installed   bool
	lastChecked time.Time
	controller  controller.Controller // set after Build; receives the late watches
	watching    map[schema.GroupVersionKind]bool
}

func newOptionalKinds(mgr ctrl.Manager, what string, owned bool, kinds ...schema.GroupVersionKind) *optionalKinds {
	o := &optionalKinds{mgr: mgr, what: what, kinds: kinds, owned: owned, recheck: optionalKindsRecheck,
		watching: map[schema.GroupVersionKind]bool{}}
	o.installed = o.lookup(context.Background())
	o.lastChecked = time.Now()
	return o
}

// lookup asks whether every kind exists.
func (o *optionalKinds) lookup(ctx context.Context) bool {
	log := ctrl.LoggerFrom(ctx).WithName("optional-kinds").WithValues("of", o.what)
	for _, gvk := range o.kinds {
		_, err := o.mgr.GetRESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
		switch {
		case err == nil:
			continue
		case meta.IsNoMatchError(err):
			log.Info("CRDs not installed; the spec fields that need them cannot be served until they are", "missing", gvk.Kind)
		default:
			log.Error(err, "looking up a kind; assuming it is not installed", "kind", gvk.Kind)
		}
		return false
	}
	log.Info("CRDs found")
	return true
}

// Installed reports whether every kind is served, asking again (throttled) while one was
// not. A nil optionalKinds (reconciler not set up through SetupWithManager) reports none.
func (o *optionalKinds) Installed(ctx context.Context) bool {
	if o == nil {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.installed && time.Since(o.lastChecked) >= o.recheck {
		o.lastChecked = time.Now()
		o.installed = o.lookup(ctx)
	}
	if o.installed && o.owned {
		o.watchOwned(ctx)
	}
	return o.installed
}

// watchOwned adds a watch per kind not watched yet to the running controller. Without a
// controller (before Build, or kinds watched from the start through the builder) it does
// nothing.
func (o *optionalKinds) watchOwned(ctx context.Context) {
	if o.controller == nil {
		return
	}
	for _, gvk := range o.kinds {
		if o.watching[gvk] {
			continue
		}
		var obj client.Object
		if typed, err := o.mgr.GetScheme().New(gvk); err == nil {
			obj = typed.(client.Object)
		} else { // a kind the scheme does not know (the monitors)
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(gvk)
			obj = u
		}
		src := source.Kind[client.Object](o.mgr.GetCache(), obj,
			handler.EnqueueRequestForOwner(o.mgr.GetScheme(), o.mgr.GetRESTMapper(), &shopv1.LittleEcom{}, handler.OnlyControllerOwner()))
		if err := o.controller.Watch(src); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "watching an optional kind; tried again on the next reconcile", "kind", gvk.Kind)
			return
		}
		o.watching[gvk] = true
	}
}

// startedWith hands over the built controller, which receives the late watches; watched
// says the builder already watches the kinds (they were installed at setup).
func (o *optionalKinds) startedWith(c controller.Controller, watched bool) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.controller = c
	if watched {
		for _, gvk := range o.kinds {
			o.watching[gvk] = true
		}
	}
}

// recheckInterval is how long a shop that needs the kinds waits before they are looked for
// again: the throttle itself, so the shop is back just as Installed would ask again.
func (o *optionalKinds) recheckInterval() time.Duration {
	if o == nil {
		return optionalKindsRecheck
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.recheck
}
