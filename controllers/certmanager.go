package controllers

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// certificateGVK is the kind whose presence says cert-manager is installed. The operator
// creates no cert-manager objects (its ingress-shim turns the Ingress's annotations into a
// Certificate), so it needs neither cert-manager's Go types nor rights on them: the API
// server's discovery (the manager's RESTMapper) answers.
var certificateGVK = schema.GroupVersionKind{Group: "cert-manager.io", Version: "v1", Kind: "Certificate"}

// ReasonCertManagerNotInstalled is IngressReady's reason when spec.ingress.certManager names
// an issuer and the cluster has no cert-manager CRDs.
const ReasonCertManagerNotInstalled = "CertManagerNotInstalled"

// newCertManager knows whether the cluster has cert-manager's CRDs (optionalKinds); the
// operator owns no cert-manager objects, so there is nothing to watch.
func newCertManager(mgr ctrl.Manager) *optionalKinds {
	return newOptionalKinds(mgr, "cert-manager", false, certificateGVK)
}

// observeCertManager notes, for IngressReady, a shop whose Ingress asks cert-manager for its
// certificate in a cluster without cert-manager, and looks at it again later. The Ingress
// keeps its annotations and tls section: once cert-manager is installed it issues the
// certificate without another change.
func (r *LittleEcomReconciler) observeCertManager(ctx context.Context, st *reconcileState) {
	spec := st.shop.Instance.Spec
	if !resource.IngressEnabled(spec) || spec.Ingress.CertManager == nil || r.certManager.Installed(ctx) {
		return
	}
	st.edge.certManagerMissing = true
	st.requeue(r.certManager.recheckInterval())
}

// certManagerCondition is the Ingress's TLS part of IngressReady: False while the spec names
// an issuer and cert-manager is missing; ok is false when there is nothing to say.
func certManagerCondition(in shopv1.IngressSpec, obs edgeObservation) (cs conditionStatus, ok bool) {
	if in.CertManager == nil || !obs.certManagerMissing {
		return conditionStatus{}, false
	}
	kind := in.CertManager.IssuerKind
	if kind == "" {
		kind = shopv1.IssuerKindIssuer
	}
	return conditionStatus{status: metav1.ConditionFalse, reason: ReasonCertManagerNotInstalled,
		message: "spec.ingress.certManager names " + string(kind) + " " + in.CertManager.IssuerName +
			", but this cluster has no cert-manager CRDs (cert-manager.io/v1 Certificate): install cert-manager, " +
			"or remove spec.ingress.certManager and name a kubernetes.io/tls Secret in spec.ingress.tlsSecretName; " +
			"until then the Ingress's TLS Secret is missing and the ingress controller serves its default certificate"}, true
}
