package controllers

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// httpRouteGVK is what the operator needs from the Gateway API: the v1 HTTPRoute.
var httpRouteGVK = schema.GroupVersionKind{Group: gatewayv1.GroupName, Version: "v1", Kind: "HTTPRoute"}

// gatewayAPIRecheck is how often a cluster without the Gateway API CRDs is asked again, and
// how soon a shop that wants an HTTPRoute there is reconciled again to pick them up.
const gatewayAPIRecheck = 30 * time.Second

// gatewayAPI knows whether the cluster serves HTTPRoutes. The Gateway API CRDs are optional:
// without them the operator runs as usual, watches no HTTPRoutes (an informer on a missing
// kind would fail the manager) and reports a shop that asks for one. It checks at setup and,
// while absent, again at most every gatewayAPIRecheck when a shop asks; once the CRDs
// appear it starts the HTTPRoute watch on the running controller.
type gatewayAPI struct {
	mgr ctrl.Manager
	// recheck is gatewayAPIRecheck; tests shorten it.
	recheck time.Duration

	mu          sync.Mutex
	installed   bool
	lastChecked time.Time
	controller  controller.Controller // set after Build; receives the late watch
}

func newGatewayAPI(mgr ctrl.Manager) *gatewayAPI {
	g := &gatewayAPI{mgr: mgr, recheck: gatewayAPIRecheck}
	g.installed = g.lookup(context.Background())
	g.lastChecked = time.Now()
	return g
}

// ownRoutes adds the HTTPRoute watch to b when the CRDs are installed at setup.
func (g *gatewayAPI) ownRoutes(b *builder.Builder) *builder.Builder {
	if g.installed {
		return b.Owns(&gatewayv1.HTTPRoute{})
	}
	return b
}

// lookup asks the API server (through the manager's RESTMapper) whether HTTPRoute v1 exists;
// the scheme must know the type too, or the client could not use it.
func (g *gatewayAPI) lookup(ctx context.Context) bool {
	log := ctrl.LoggerFrom(ctx).WithName("gateway-api")
	if !g.mgr.GetScheme().Recognizes(httpRouteGVK) {
		log.Info("HTTPRoute is not registered in the scheme; Gateway API support is off")
		return false
	}
	_, err := g.mgr.GetRESTMapper().RESTMapping(httpRouteGVK.GroupKind(), httpRouteGVK.Version)
	switch {
	case err == nil:
		log.Info("Gateway API CRDs found; HTTPRoutes enabled")
		return true
	case meta.IsNoMatchError(err):
		log.Info("Gateway API CRDs not installed; spec.gateway cannot be served until they are")
	default:
		log.Error(err, "looking up the Gateway API HTTPRoute kind; assuming it is not installed")
	}
	return false
}

// Installed reports whether HTTPRoutes can be served, checking again (throttled) while
// they could not. A nil gatewayAPI (reconciler not set up through SetupWithManager) has none.
func (g *gatewayAPI) Installed(ctx context.Context) bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.installed || time.Since(g.lastChecked) < g.recheck {
		return g.installed
	}
	g.lastChecked = time.Now()
	if !g.lookup(ctx) {
		return false
	}
	if g.controller != nil {
		// Installed after the operator started: watch HTTPRoutes from now on so that a route
		// deleted or edited by hand, or its status, reconciles the shop.
		src := source.Kind[client.Object](g.mgr.GetCache(), &gatewayv1.HTTPRoute{},
			handler.EnqueueRequestForOwner(g.mgr.GetScheme(), g.mgr.GetRESTMapper(), &shopv1.LittleEcom{}, handler.OnlyControllerOwner()))
		if err := g.controller.Watch(src); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "watching HTTPRoutes")
			return false
		}
	}
	g.installed = true
	return true
}
