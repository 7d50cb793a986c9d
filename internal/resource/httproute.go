package resource

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// ComponentGateway labels the shop's Gateway API objects.
const ComponentGateway = "gateway"

// HTTPRoute is the HTTPRoute name: the instance name itself, like the Ingress.
func (n Names) HTTPRoute() string { return n.Instance }

// HTTPRouteBuilder is the HTTPRoute `<n>` that attaches the shop's paths to the Gateways
// named in spec.gateway, answering CORS with the Gateway API CORS filter.
type HTTPRouteBuilder struct{ shop *Shop }

var (
	_ Builder  = (*HTTPRouteBuilder)(nil)
	_ Optional = (*HTTPRouteBuilder)(nil)
)

// HTTPRoute returns the builder of the shop's HTTPRoute. The reconciler uses it only when
// the Gateway API CRDs are installed.
func (s *Shop) HTTPRoute() Builder { return &HTTPRouteBuilder{shop: s} }

// Enabled implements Optional: the route exists while spec.gateway is set.
func (b *HTTPRouteBuilder) Enabled() bool { return b.shop.Instance.Spec.Gateway != nil }

// Build implements Builder.
func (b *HTTPRouteBuilder) Build() client.Object {
	return &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{
		Name: b.shop.Names.HTTPRoute(), Namespace: b.shop.Instance.Namespace,
	}}
}

// Update implements Builder. Every field the CRD defaults (parentRef group and kind,
// backendRef group, kind and weight) is set explicitly so that the stored route equals the
// built one and an unchanged shop causes no write.
func (b *HTTPRouteBuilder) Update(obj client.Object) error {
	route, ok := obj.(*gatewayv1.HTTPRoute)
	if !ok {
		return typeError("HTTPRoute", obj)
	}
	if err := b.shop.setOwnerAndLabels(route, ComponentGateway); err != nil {
		return err
	}
	policy, err := b.shop.edgeCORS()
	if err != nil {
		return err
	}
	gw := ptr.Deref(b.shop.Instance.Spec.Gateway, shopv1.GatewaySpec{})

	route.Spec.ParentRefs = nil
	for _, p := range gw.ParentRefs {
		ref := gatewayv1.ParentReference{
			Group: ptr.To(gatewayv1.Group(gatewayv1.GroupName)),
			Kind:  ptr.To(gatewayv1.Kind("Gateway")),
			Name:  gatewayv1.ObjectName(p.Name),
		}
		if p.Namespace != "" {
			ref.Namespace = new(gatewayv1.Namespace(p.Namespace))
		}
		if p.SectionName != "" {
			ref.SectionName = new(gatewayv1.SectionName(p.SectionName))
		}
		route.Spec.ParentRefs = append(route.Spec.ParentRefs, ref)
	}
	route.Spec.Hostnames = nil
	for _, h := range gw.Hostnames {
		route.Spec.Hostnames = append(route.Spec.Hostnames, gatewayv1.Hostname(h))
	}

	filter := httpRouteFilter(policy)
	route.Spec.Rules = nil
	for _, r := range b.shop.EdgeRoutes() {
		route.Spec.Rules = append(route.Spec.Rules, gatewayv1.HTTPRouteRule{
			Matches: []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{
				Type: ptr.To(gatewayv1.PathMatchPathPrefix), Value: new(r.Path),
			}}},
			Filters: []gatewayv1.HTTPRouteFilter{*filter.DeepCopy()},
			BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{
				BackendObjectReference: gatewayv1.BackendObjectReference{
					Group: ptr.To(gatewayv1.Group("")),
					Kind:  ptr.To(gatewayv1.Kind("Service")),
					Name:  gatewayv1.ObjectName(r.Service),
					Port:  new(r.Port),
				},
				Weight: ptr.To[int32](1),
			}}},
		})
	}
	return nil
}
