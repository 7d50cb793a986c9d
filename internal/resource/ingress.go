package resource

import (
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
)

// DefaultIngressClassName is the IngressClass when spec.ingress.className is empty.
const DefaultIngressClassName = "nginx"

// EdgeRoute is one path prefix the edge (Ingress or HTTPRoute) forwards to a shop Service.
type EdgeRoute struct {
	// Path is a prefix matched element-wise: /auth matches /auth and /auth/signin, not /authx.
	Path    string
	Service string
	// PortName names the Service port (the Ingress refers to it by name); Port is its
	// number (an HTTPRoute backendRef needs the number).
	PortName string
	Port     int32
}

// EdgeRoutes are the paths the edge serves, most specific first: /auth to auth, /kibana to
// Kibana while the spec exposes it (KibanaExposed), everything else to the backend.
func (s *Shop) EdgeRoutes() []EdgeRoute {
	routes := []EdgeRoute{
		{Path: "/auth", Service: s.Names.Service(ComponentAuth), PortName: httpPortName, Port: contract.HTTPPort},
	}
	if s.KibanaExposed() {
		name, port := s.KibanaService()
		routes = append(routes, EdgeRoute{Path: KibanaPath, Service: name, PortName: httpPortName, Port: port})
	}
	return append(routes,
		EdgeRoute{Path: "/", Service: s.Names.Service(ComponentBackend), PortName: httpPortName, Port: contract.HTTPPort})
}

// IngressEnabled reports whether spec wants its Ingress (spec.ingress.enabled, on by default).
func IngressEnabled(spec shopv1.LittleEcomSpec) bool {
	return ptr.Deref(spec.Ingress.Enabled, true)
}

// EdgeEnabled reports whether an edge sits in front of the services: an Ingress (see
// IngressEnabled) or an HTTPRoute (spec.gateway), or both.
func EdgeEnabled(spec shopv1.LittleEcomSpec) bool {
	return IngressEnabled(spec) || spec.Gateway != nil
}

// IngressScheme is the URL scheme the Ingress serves: https when it terminates TLS.
func IngressScheme(in shopv1.IngressSpec) string {
	if IngressTLSEnabled(in) {
		return "https"
	}
	return "http"
}

// IngressBuilder is the Ingress `<n>` in front of auth and backend, answering CORS with
// ingress-nginx annotations.
type IngressBuilder struct{ shop *Shop }

var (
	_ Builder  = (*IngressBuilder)(nil)
	_ Optional = (*IngressBuilder)(nil)
)

// Ingress returns the builder of the shop's Ingress.
func (s *Shop) Ingress() Builder { return &IngressBuilder{shop: s} }

// Enabled implements Optional.
func (b *IngressBuilder) Enabled() bool { return IngressEnabled(b.shop.Instance.Spec) }

// Build implements Builder.
func (b *IngressBuilder) Build() client.Object {
	return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{
		Name: b.shop.Names.Ingress(), Namespace: b.shop.Instance.Namespace,
	}}
}

// Update implements Builder.
func (b *IngressBuilder) Update(obj client.Object) error {
	ing, ok := obj.(*networkingv1.Ingress)
	if !ok {
		return typeError("Ingress", obj)
	}
	if err := b.shop.setOwnerAndLabels(ing, ComponentIngress); err != nil {
		return err
	}
	policy, err := b.shop.edgeCORS()
	if err != nil {
		return err
	}
	ours, err := nginxAnnotations(policy)
	if err != nil {
		return err
	}
	annotations := ing.GetAnnotations()
	for _, k := range nginxCORSAnnotations {
		if _, keep := ours[k]; !keep {
			delete(annotations, k)
		}
	}
	mergeInto(&annotations, ours)
	b.shop.setCertManagerAnnotations(annotations) // ingress_tls.go
	ing.SetAnnotations(annotations)

	spec := b.shop.Instance.Spec.Ingress
	ing.Spec.IngressClassName = new(stringOr(spec.ClassName, DefaultIngressClassName))
	ing.Spec.DefaultBackend = nil
	ing.Spec.TLS = b.shop.ingressTLS() // ingress_tls.go
	prefix := networkingv1.PathTypePrefix
	var paths []networkingv1.HTTPIngressPath
	for _, r := range b.shop.EdgeRoutes() {
		paths = append(paths, networkingv1.HTTPIngressPath{
			Path:     r.Path,
			PathType: &prefix,
			Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
				Name: r.Service, Port: networkingv1.ServiceBackendPort{Name: r.PortName},
			}},
		})
	}
	ing.Spec.Rules = []networkingv1.IngressRule{{
		Host:             spec.Host,
		IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}},
	}}
	return nil
}
