package controllers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes,verbs=get;list;watch;create;update;patch;delete

// eventIngressNginxRetired is recorded once, when the operator creates an Ingress.
const eventIngressNginxRetired = "IngressNginxRetired"

// ingressNginxRetired is said wherever ingress mode is used: the Ingress carries
// ingress-nginx annotations, and ingress-nginx is no longer maintained.
const ingressNginxRetired = "ingress-nginx is retired (retirement announced 2025-11-11, best-effort maintenance ended in March 2026)"

// edgeObservation is what the edge phase (Ingress, HTTPRoute) saw, for status.
type edgeObservation struct {
	// ingress as stored; nil when disabled or not applied
	ingress *networkingv1.Ingress
	// route as stored; nil when not wanted, not applied or the Gateway API is missing
	route *gatewayv1.HTTPRoute
	// gatewayAPIMissing: spec.gateway asks for a route the cluster cannot serve
	gatewayAPIMissing bool
	// certManagerMissing: spec.ingress.certManager names an issuer, cert-manager is absent
	certManagerMissing bool
}

// reconcileEdge keeps the Ingress and the Gateway API HTTPRoute, and removes the one the
// spec no longer asks for.
func (r *LittleEcomReconciler) reconcileEdge(ctx context.Context, st *reconcileState) error {
	const cond = shopv1.ConditionIngressReady
	var errs []error
	if err := r.reconcileIngress(ctx, st); err != nil {
		errs = append(errs, st.fail(cond, err))
	}
	r.observeCertManager(ctx, st) // certmanager.go
	switch {
	case r.gateway.Installed(ctx):
		obj, err := r.apply(ctx, st, st.shop.HTTPRoute())
		if err != nil {
			errs = append(errs, st.fail(cond, err))
		} else if obj != nil {
			st.edge.route = obj.(*gatewayv1.HTTPRoute)
		}
	case st.shop.Instance.Spec.Gateway != nil:
		// Not an error to back off on: the condition says what is missing, and the shop is
		// looked at again to pick up CRDs installed later.
		st.edge.gatewayAPIMissing = true
		st.requeue(r.gateway.recheckInterval())
	}
	return errors.Join(errs...)
}

// reconcileIngress applies the Ingress and, when it creates it, records the one event that
// says ingress-nginx is retired.
func (r *LittleEcomReconciler) reconcileIngress(ctx context.Context, st *reconcileState) error {
	obj, op, err := r.applyOp(ctx, st, st.shop.Ingress())
	if err != nil || obj == nil {
		return err
	}
	st.edge.ingress = obj.(*networkingv1.Ingress)
	if op == controllerutil.OperationResultCreated {
		r.Recorder.Eventf(st.shop.Instance, obj, corev1.EventTypeWarning, eventIngressNginxRetired, "Create",
			"%s; its annotations configure CORS on Ingress %s. Consider spec.gateway: "+
				"the operator then creates a Gateway API HTTPRoute with a CORS filter",
			ingressNginxRetired, obj.GetName())
	}
	return nil
}

// setEdgeStatus sets IngressReady and status.endpoints.api.
func setEdgeStatus(shop *shopv1.LittleEcom, st *reconcileState) {
	cs, api := edgeCondition(shop.Spec, st.edge, st.failures[shopv1.ConditionIngressReady])
	cs.apply(shop, shopv1.ConditionIngressReady)
	shop.Status.Endpoints.API = api
}

// edgeConditions are the edge's conditions that count towards Ready for this spec.
func edgeConditions(shop *shopv1.LittleEcom) []string {
	if resource.EdgeEnabled(shop.Spec) {
		return []string{shopv1.ConditionIngressReady}
	}
	return nil
}

// edgeCondition derives IngressReady and the API URL. With both an Ingress and an HTTPRoute
// the condition is True only when both serve; its message always covers both.
func edgeCondition(spec shopv1.LittleEcomSpec, obs edgeObservation, failure error) (conditionStatus, string) {
	if !resource.EdgeEnabled(spec) {
		return conditionStatus{metav1.ConditionFalse, shopv1.ReasonDisabled,
			"no edge: spec.ingress.enabled is false and spec.gateway is not set"}, ""
	}
	ingressOn := resource.IngressEnabled(spec)
	var parts []conditionStatus
	var api string
	if spec.Gateway != nil {
		cs, url := routeCondition(spec.Gateway, obs)
		parts = append(parts, cs)
		api = url
	}
	if ingressOn {
		// First, so that its reason wins over the Ingress's own (e.g. WaitingForAddress).
		if tls, ok := certManagerCondition(spec.Ingress, obs); ok { // certmanager.go
			parts = append(parts, tls)
		}
		cs, url := ingressCondition(spec.Ingress, obs.ingress)
		parts = append(parts, cs)
		if url != "" {
			api = url // the Ingress's own address is the surer URL
		}
	}
	out := conditionStatus{metav1.ConditionTrue, shopv1.ReasonReady, ""}
	var messages []string
	for _, p := range parts {
		messages = append(messages, p.message)
		// False outranks Unknown outranks True; the first part of a rank gives the reason.
		switch {
		case p.status == metav1.ConditionFalse && out.status != metav1.ConditionFalse,
			p.status == metav1.ConditionUnknown && out.status == metav1.ConditionTrue:
			out.status, out.reason = p.status, p.reason
		}
	}
	if failure != nil {
		out.status, out.reason = metav1.ConditionFalse, shopv1.ReasonReconcileFailed
		messages = append([]string{safeMessage(failure)}, messages...)
	}
	if ingressOn {
		advice := "consider spec.gateway (a Gateway API HTTPRoute) instead"
		if spec.Gateway != nil {
			advice = "set spec.ingress.enabled: false once the HTTPRoute serves"
		}
		messages = append(messages, "note: "+ingressNginxRetired+"; "+advice)
	}
	out.message = strings.Join(messages, "; ")
	return out, api
}

// ingressCondition is True once the Ingress controller published an address.
func ingressCondition(spec shopv1.IngressSpec, ing *networkingv1.Ingress) (conditionStatus, string) {
	if ing == nil {
		return conditionStatus{metav1.ConditionUnknown, shopv1.ReasonProgressing, "Ingress not created yet"}, ""
	}
	var addresses []string
	var port int32 // the first port an address publishes, for an endpoint off 80/443
	for _, lb := range ing.Status.LoadBalancer.Ingress {
		if a := lb.IP; a != "" {
			addresses = append(addresses, a)
		} else if lb.Hostname != "" {
			addresses = append(addresses, lb.Hostname)
		}
		if len(lb.Ports) > 0 && port == 0 {
			port = lb.Ports[0].Port
		}
	}
	if len(addresses) == 0 {
		return conditionStatus{metav1.ConditionFalse, shopv1.ReasonWaitingForAddress,
			fmt.Sprintf("Ingress %s has no address yet: waiting for the %q ingress controller", ing.Name,
				ptr.Deref(ing.Spec.IngressClassName, ""))}, ""
	}
	scheme := resource.IngressScheme(spec)
	host := spec.Host
	if host == "" || strings.HasPrefix(host, "*") {
		host = addresses[0]
	}
	if port != 0 && !isDefaultPort(scheme, port) {
		host = net.JoinHostPort(host, strconv.Itoa(int(port)))
	}
	return conditionStatus{metav1.ConditionTrue, shopv1.ReasonReady,
		fmt.Sprintf("Ingress %s serves at %s", ing.Name, strings.Join(addresses, ", "))}, scheme + "://" + host + "/"
}

// isDefaultPort reports whether port is the one a URL of scheme implies, and so left out.
func isDefaultPort(scheme string, port int32) bool {
	return (scheme == "http" && port == 80) || (scheme == "https" && port == 443)
}

// routeCondition is True once every parent Gateway accepted the HTTPRoute and resolved its
// backends, as their controllers report in status.parents.
func routeCondition(gw *shopv1.GatewaySpec, obs edgeObservation) (conditionStatus, string) {
	if obs.gatewayAPIMissing {
		return conditionStatus{metav1.ConditionFalse, shopv1.ReasonGatewayAPINotInstalled,
			"spec.gateway asks for an HTTPRoute, but this cluster has no Gateway API CRDs (gateway.networking.k8s.io/v1 HTTPRoute): " +
				"install the Gateway API standard channel (v1.5.0 or later, for the CORS filter) or remove spec.gateway"}, ""
	}
	route := obs.route
	if route == nil {
		return conditionStatus{metav1.ConditionUnknown, shopv1.ReasonProgressing, "HTTPRoute not created yet"}, ""
	}
	var parents []string
	for _, ref := range route.Spec.ParentRefs {
		parent := parentName(route.Namespace, ref)
		parents = append(parents, parent)
		ps := parentStatus(route, ref)
		var accepted, resolved *metav1.Condition
		if ps != nil {
			accepted = meta.FindStatusCondition(ps.Conditions, string(gatewayv1.RouteConditionAccepted))
			resolved = meta.FindStatusCondition(ps.Conditions, string(gatewayv1.RouteConditionResolvedRefs))
		}
		switch {
		case accepted == nil || (accepted.ObservedGeneration != 0 && accepted.ObservedGeneration < route.Generation):
			return conditionStatus{metav1.ConditionFalse, shopv1.ReasonWaitingForGateway,
				fmt.Sprintf("HTTPRoute %s: waiting for Gateway %s to report on the current spec", route.Name, parent)}, ""
		case accepted.Status != metav1.ConditionTrue:
			return conditionStatus{metav1.ConditionFalse, shopv1.ReasonRouteNotAccepted,
				fmt.Sprintf("Gateway %s did not accept HTTPRoute %s: %s: %s", parent, route.Name, accepted.Reason, accepted.Message)}, ""
		case resolved != nil && resolved.Status == metav1.ConditionFalse:
			return conditionStatus{metav1.ConditionFalse, shopv1.ReasonRouteRefsUnresolved,
				fmt.Sprintf("Gateway %s cannot resolve the backends of HTTPRoute %s: %s: %s",
					parent, route.Name, resolved.Reason, resolved.Message)}, ""
		}
	}
	var api string
	for _, h := range gw.Hostnames {
		if !strings.HasPrefix(h, "*") {
			api = "http://" + h + "/"
			break
		}
	}
	return conditionStatus{metav1.ConditionTrue, shopv1.ReasonReady,
		fmt.Sprintf("HTTPRoute %s accepted by Gateway %s", route.Name, strings.Join(parents, ", "))}, api
}

// parentStatus finds what a Gateway controller reported for ref.
func parentStatus(route *gatewayv1.HTTPRoute, ref gatewayv1.ParentReference) *gatewayv1.RouteParentStatus {
	for i, ps := range route.Status.Parents {
		if parentName(route.Namespace, ps.ParentRef) == parentName(route.Namespace, ref) &&
			ptr.Deref(ps.ParentRef.SectionName, "") == ptr.Deref(ref.SectionName, "") {
			return &route.Status.Parents[i]
		}
	}
	return nil
}

// parentName is namespace/name of a parent Gateway, its namespace defaulting to the route's.
func parentName(routeNamespace string, ref gatewayv1.ParentReference) string {
	ns := string(ptr.Deref(ref.Namespace, gatewayv1.Namespace(routeNamespace)))
	return ns + "/" + string(ref.Name)
}
