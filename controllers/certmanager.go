package controllers

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
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

// certManagerRecheck is how often a cluster without cert-manager is asked again while a
// shop names an issuer, and how soon that shop is reconciled again to report it installed.
const certManagerRecheck = 30 * time.Second

// ReasonCertManagerNotInstalled is IngressReady's reason when spec.ingress.certManager names
// an issuer and the cluster has no cert-manager CRDs.
const ReasonCertManagerNotInstalled = "CertManagerNotInstalled"

// certManager knows whether the cluster has cert-manager's CRDs, checking again (throttled)
// while they are missing, as gatewayAPI does for HTTPRoutes.
type certManager struct {
	mapper  meta.RESTMapper
	recheck time.Duration

	mu          sync.Mutex
	installed   bool
	lastChecked time.Time
}

func newCertManager(mgr ctrl.Manager) *certManager {
	c := &certManager{mapper: mgr.GetRESTMapper(), recheck: certManagerRecheck}
	c.installed = c.lookup(context.Background())
	c.lastChecked = time.Now()
	return c
}

func (c *certManager) lookup(ctx context.Context) bool {
	log := ctrl.LoggerFrom(ctx).WithName("cert-manager")
	_, err := c.mapper.RESTMapping(certificateGVK.GroupKind(), certificateGVK.Version)
	switch {
	case err == nil:
		log.Info("cert-manager CRDs found; spec.ingress.certManager can be served")
		return true
	case meta.IsNoMatchError(err):
		log.Info("cert-manager CRDs not installed; spec.ingress.certManager cannot be served until they are")
	default:
		log.Error(err, "looking up cert-manager's Certificate kind; assuming it is not installed")
	}
	return false
}

// Installed reports whether cert-manager's CRDs exist, asking again at most every recheck
// while they did not. A nil certManager (reconciler not set up through SetupWithManager)
// asks the API server nothing and reports none.
func (c *certManager) Installed(ctx context.Context) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.installed || time.Since(c.lastChecked) < c.recheck {
		return c.installed
	}
	c.lastChecked = time.Now()
	c.installed = c.lookup(ctx)
	return c.installed
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

// recheckInterval is how long a shop waits before cert-manager is looked for again: the
// throttle itself, so the shop is back just as Installed would ask the API server again.
func (c *certManager) recheckInterval() time.Duration {
	if c == nil {
		return certManagerRecheck
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recheck
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
