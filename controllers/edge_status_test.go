package controllers

import (
	"errors"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// readyEdge is an Ingress whose controller published an address.
func readyEdge() edgeObservation {
	return edgeObservation{ingress: ingressWithAddress("192.0.2.1")}
}

func ingressWithAddress(addresses ...string) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "ns"}}
	ing.Spec.IngressClassName = new("nginx")
	for _, a := range addresses {
		ing.Status.LoadBalancer.Ingress = append(ing.Status.LoadBalancer.Ingress, networkingv1.IngressLoadBalancerIngress{IP: a})
	}
	return ing
}

// routeWith is an HTTPRoute (generation 2) to Gateway "public", reported on with conditions.
func routeWith(conditions ...metav1.Condition) *gatewayv1.HTTPRoute {
	r := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "ns", Generation: 2}}
	ref := gatewayv1.ParentReference{Name: "public"}
	r.Spec.ParentRefs = []gatewayv1.ParentReference{ref}
	if conditions != nil {
		r.Status.Parents = []gatewayv1.RouteParentStatus{{ParentRef: ref, ControllerName: "example.com/gw", Conditions: conditions}}
	}
	return r
}

func cond(t gatewayv1.RouteConditionType, s metav1.ConditionStatus, gen int64) metav1.Condition {
	return metav1.Condition{Type: string(t), Status: s, Reason: "Because", Message: "says the gateway", ObservedGeneration: gen}
}

func TestEdgeCondition(t *testing.T) {
	gateway := &shopv1.GatewaySpec{ParentRefs: []shopv1.GatewayParentRef{{Name: "public"}}, Hostnames: []string{"*.example.com", "api.example.com"}}
	off := new(false)
	accepted := cond(gatewayv1.RouteConditionAccepted, metav1.ConditionTrue, 2)
	resolved := cond(gatewayv1.RouteConditionResolvedRefs, metav1.ConditionTrue, 2)
	tests := []struct {
		name    string
		spec    shopv1.LittleEcomSpec
		obs     edgeObservation
		failure error
		status  metav1.ConditionStatus
		reason  string
		api     string
		message []string
	}{
		{name: "neither Ingress nor gateway", spec: shopv1.LittleEcomSpec{Ingress: shopv1.IngressSpec{Enabled: off}},
			status: metav1.ConditionFalse, reason: shopv1.ReasonDisabled},
		{name: "Ingress not applied yet", status: metav1.ConditionUnknown, reason: shopv1.ReasonProgressing,
			message: []string{"ingress-nginx is retired", "consider spec.gateway"}},
		{name: "Ingress without address", obs: edgeObservation{ingress: ingressWithAddress()},
			status: metav1.ConditionFalse, reason: shopv1.ReasonWaitingForAddress, message: []string{`"nginx" ingress controller`}},
		{name: "Ingress with address", obs: edgeObservation{ingress: ingressWithAddress("192.0.2.1", "192.0.2.2")},
			status: metav1.ConditionTrue, reason: shopv1.ReasonReady, api: "http://192.0.2.1/",
			message: []string{"192.0.2.1, 192.0.2.2", "ingress-nginx is retired"}},
		{name: "Ingress with host and TLS",
			spec:   shopv1.LittleEcomSpec{Ingress: shopv1.IngressSpec{Host: "shop.example.com", TLSSecretName: "tls"}},
			obs:    edgeObservation{ingress: ingressWithAddress("192.0.2.1")},
			status: metav1.ConditionTrue, reason: shopv1.ReasonReady, api: "https://shop.example.com/"},
		{name: "apply failed", obs: edgeObservation{ingress: ingressWithAddress("192.0.2.1")}, failure: errors.New("boom"),
			status: metav1.ConditionFalse, reason: shopv1.ReasonReconcileFailed, api: "http://192.0.2.1/", message: []string{"boom"}},
		{name: "gateway wanted, CRDs missing", spec: shopv1.LittleEcomSpec{Ingress: shopv1.IngressSpec{Enabled: off}, Gateway: gateway},
			obs:    edgeObservation{gatewayAPIMissing: true},
			status: metav1.ConditionFalse, reason: shopv1.ReasonGatewayAPINotInstalled, message: []string{"no Gateway API CRDs"}},
		{name: "CRDs missing outranks a serving Ingress", spec: shopv1.LittleEcomSpec{Gateway: gateway},
			obs:    edgeObservation{gatewayAPIMissing: true, ingress: ingressWithAddress("192.0.2.1")},
			status: metav1.ConditionFalse, reason: shopv1.ReasonGatewayAPINotInstalled, api: "http://192.0.2.1/",
			message: []string{"192.0.2.1", "once the HTTPRoute serves"}},
		{name: "route without status", spec: shopv1.LittleEcomSpec{Ingress: shopv1.IngressSpec{Enabled: off}, Gateway: gateway},
			obs:    edgeObservation{route: routeWith()},
			status: metav1.ConditionFalse, reason: shopv1.ReasonWaitingForGateway},
		{name: "route status for an older generation", spec: shopv1.LittleEcomSpec{Ingress: shopv1.IngressSpec{Enabled: off}, Gateway: gateway},
			obs:    edgeObservation{route: routeWith(cond(gatewayv1.RouteConditionAccepted, metav1.ConditionTrue, 1), resolved)},
			status: metav1.ConditionFalse, reason: shopv1.ReasonWaitingForGateway},
		{name: "route refused", spec: shopv1.LittleEcomSpec{Ingress: shopv1.IngressSpec{Enabled: off}, Gateway: gateway},
			obs:    edgeObservation{route: routeWith(cond(gatewayv1.RouteConditionAccepted, metav1.ConditionFalse, 2))},
			status: metav1.ConditionFalse, reason: shopv1.ReasonRouteNotAccepted, message: []string{"ns/public", "says the gateway"}},
		{name: "route backends unresolved", spec: shopv1.LittleEcomSpec{Ingress: shopv1.IngressSpec{Enabled: off}, Gateway: gateway},
			obs:    edgeObservation{route: routeWith(accepted, cond(gatewayv1.RouteConditionResolvedRefs, metav1.ConditionFalse, 2))},
			status: metav1.ConditionFalse, reason: shopv1.ReasonRouteRefsUnresolved},
		{name: "route accepted", spec: shopv1.LittleEcomSpec{Ingress: shopv1.IngressSpec{Enabled: off}, Gateway: gateway},
			obs:    edgeObservation{route: routeWith(accepted, resolved)},
			status: metav1.ConditionTrue, reason: shopv1.ReasonReady, api: "http://api.example.com/", message: []string{"accepted by Gateway ns/public"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, api := edgeCondition(tt.spec, tt.obs, tt.failure)
			if got.status != tt.status || got.reason != tt.reason {
				t.Errorf("got %s/%s, want %s/%s (%s)", got.status, got.reason, tt.status, tt.reason, got.message)
			}
			if api != tt.api {
				t.Errorf("api = %q, want %q", api, tt.api)
			}
			for _, m := range tt.message {
				if !strings.Contains(got.message, m) {
					t.Errorf("message %q lacks %q", got.message, m)
				}
			}
			if ptr.Deref(tt.spec.Ingress.Enabled, true) == false && strings.Contains(got.message, "ingress-nginx") {
				t.Errorf("no Ingress, no retirement note: %q", got.message)
			}
		})
	}
}

func TestEdgeConditions_CountOnlyAnEnabledEdge(t *testing.T) {
	shop := &shopv1.LittleEcom{}
	if got := edgeConditions(shop); len(got) != 1 || got[0] != shopv1.ConditionIngressReady {
		t.Errorf("default spec: %v, want [IngressReady]", got)
	}
	shop.Spec.Ingress.Enabled = new(false)
	if got := edgeConditions(shop); len(got) != 0 {
		t.Errorf("no edge: %v, want none", got)
	}
	shop.Spec.Gateway = &shopv1.GatewaySpec{}
	if got := edgeConditions(shop); len(got) != 1 {
		t.Errorf("gateway only: %v, want [IngressReady]", got)
	}
}

func TestIngressCondition_EndpointKeepsAPublishedPort(t *testing.T) {
	withPort := func(port int32) *networkingv1.Ingress {
		ing := ingressWithAddress("127.0.0.1")
		ing.Status.LoadBalancer.Ingress[0].Ports = []networkingv1.IngressPortStatus{{Port: port, Protocol: "TCP"}}
		return ing
	}
	tests := []struct {
		name string
		spec shopv1.IngressSpec
		ing  *networkingv1.Ingress
		api  string
	}{
		{"no port published", shopv1.IngressSpec{}, ingressWithAddress("192.0.2.1"), "http://192.0.2.1/"},
		{"the default port", shopv1.IngressSpec{}, withPort(80), "http://127.0.0.1/"},
		{"another port", shopv1.IngressSpec{}, withPort(8080), "http://127.0.0.1:8080/"},
		{"TLS on 443", shopv1.IngressSpec{Host: "shop.example.com", TLSSecretName: "tls"}, withPort(443), "https://shop.example.com/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, api := ingressCondition(tt.spec, tt.ing); api != tt.api {
				t.Errorf("api = %q, want %q", api, tt.api)
			}
		})
	}
}
