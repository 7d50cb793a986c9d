package controllers

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// httpRouteGVK is what the operator needs from the Gateway API: the v1 HTTPRoute.
var httpRouteGVK = schema.GroupVersionKind{Group: gatewayv1.GroupName, Version: "v1", Kind: "HTTPRoute"}

// newGatewayAPI knows whether the cluster serves HTTPRoutes; the Gateway API CRDs are
// optional (optionalKinds). The typed client needs HTTPRoute in the scheme too (NewScheme
// registers it): without it, Gateway API support is off (nil).
func newGatewayAPI(mgr ctrl.Manager) *optionalKinds {
	if !mgr.GetScheme().Recognizes(httpRouteGVK) {
		ctrl.Log.WithName("gateway-api").Info("HTTPRoute is not registered in the scheme; Gateway API support is off")
		return nil
	}
	return newOptionalKinds(mgr, "Gateway API", true, httpRouteGVK)
}

// ownRoutes adds the HTTPRoute watch to b when the CRDs are installed at setup; installed
// later, optionalKinds starts the watch on the running controller.
func ownRoutes(g *optionalKinds, b *builder.Builder) (*builder.Builder, bool) {
	if g != nil && g.installed {
		return b.Owns(&gatewayv1.HTTPRoute{}), true
	}
	return b, false
}
