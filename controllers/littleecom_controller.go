// Package controllers holds the LittleEcom reconciler: it keeps a shop's children in the
// shape the spec asks for and reports what it sees in the status.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// LittleEcomReconciler reconciles a LittleEcom object.
type LittleEcomReconciler struct {
	client.Client
	// APIReader reads objects the cache does not hold: user-supplied Secrets, which carry
	// none of our labels (the cache keeps only Secrets the operator manages).
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	// ReplicaSet drives replSetInitiate/Reconfig and users; nil skips that phase.
	ReplicaSet ReplicaSetManager
	// External checks the database of shops with spec.mongodb.external; the zero value
	// is the production setting.
	External ExternalMongoDB
	// Images are the default images of shops that name none (images.go); zero means
	// resource.DefaultImages.
	Images resource.Images
	// Namespaces limits a namespace-scoped installation to these namespaces; empty is the
	// cluster-wide installation (setup.go).
	Namespaces []string

	// admin are the administrator's decisions (admin_settings.go): Fluentd's API access and
	// the operator's namespace, which the shops' NetworkPolicies admit.
	admin adminSettings

	// gateway says whether the cluster serves Gateway API HTTPRoutes (set up by SetupWithManager).
	gateway *optionalKinds
	// certManager says whether the cluster has cert-manager (set up by SetupWithManager).
	certManager *optionalKinds
	// prometheusOperator says whether the cluster serves ServiceMonitors and PodMonitors,
	// and monitorCache is where they are read from (set up by SetupWithManager).
	prometheusOperator *optionalKinds
	monitorCache       client.Reader
	// memory is what the reconciler keeps about each shop between reconciles.
	memory shopMemory
	// rejections remembers the replica-set requests MongoDB refused for good
	// (replicaset_rejected.go).
	rejections rejectionMemory
	// imagesOverride replaces Images while the manager runs (SetDefaultImages).
	imagesOverride atomic.Pointer[resource.Images]
}

// +kubebuilder:rbac:groups=shop.littleecom.io,resources=littleecoms,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=shop.littleecom.io,resources=littleecoms/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=shop.littleecom.io,resources=littleecoms/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=statefulsets;deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services;secrets;configmaps;serviceaccounts,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile keeps one shop true to its spec. It has one shape: get, take a status base,
// run the phases in order, then derive the status from what the phases observed and write
// it only when it changed.
func (r *LittleEcomReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	log := ctrl.LoggerFrom(ctx)

	shop := &shopv1.LittleEcom{}
	if err := r.Get(ctx, req.NamespacedName, shop); err != nil {
		if apierrors.IsNotFound(err) {
			r.memory.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !shop.DeletionTimestamp.IsZero() {
		// Namespaced children go with their owner references; the finalizer removes the
		// cluster-scoped ones.
		return ctrl.Result{}, r.finalize(ctx, shop)
	}

	original := shop.DeepCopy()
	if paused(shop) {
		return ctrl.Result{}, r.writePausedStatus(ctx, shop, original)
	}
	state := newReconcileState(resource.NewShop(shop, r.Scheme))
	state.shop.Images = r.defaultImages()

	defer func() {
		computeStatus(shop, state, err == nil)
		if perr := r.patchStatus(ctx, shop, original); perr != nil {
			err = errors.Join(err, perr)
		}
	}()

	// The phases, in the order the shop needs them: credentials before the workloads that
	// read them, MongoDB and RabbitMQ before the services that connect to them.
	phases := []struct {
		name string
		run  func(context.Context, *reconcileState) error
	}{
		{"secrets", r.reconcileSecrets},
		{"mongodb", r.reconcileMongoDB},
		{"replica set", r.reconcileReplicaSet},
		{"mongodb rollout", r.reconcileMongoDBRollout},
		{"rabbitmq", r.reconcileRabbitMQ},
		{"services", r.reconcileServices},
		{"edge", r.reconcileEdge},
		{"logging", r.reconcileLogging},
		{"policies", r.reconcilePolicies},
		// After the policies that admit the scraper (spec.networkPolicy.metricsNamespace).
		{"monitoring", r.reconcileMonitoring},
	}
	var errs []error
	for _, p := range phases {
		if err := p.run(ctx, state); err != nil {
			log.Error(err, "phase failed", "phase", p.name)
			errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return ctrl.Result{}, err
	}
	if state.requeueAfter > 0 {
		return ctrl.Result{RequeueAfter: state.requeueAfter}, nil
	}
	return ctrl.Result{}, nil
}

// reconcileState carries what one reconcile learned from phase to phase and into status.
type reconcileState struct {
	shop *resource.Shop
	// observed children, as stored after they were applied
	statefulSets map[string]*appsv1.StatefulSet // by component
	deployments  map[string]*appsv1.Deployment  // by component
	// secretData and configMapData by name, for config hashes and credentials
	secretData    map[string]map[string][]byte
	configMapData map[string]map[string]string
	// secretErrs by name: a Secret that could not be read is not asked for again
	secretErrs map[string]error
	// failures by condition type, for status
	failures       map[string]error
	replicaSet     replicaSetObservation
	mongoDBRollout rolloutObservation
	external       externalObservation
	edge           edgeObservation
	logging        loggingObservation
	monitoring     monitoringObservation
	requeueAfter   time.Duration
}

func newReconcileState(shop *resource.Shop) *reconcileState {
	return &reconcileState{
		shop:          shop,
		statefulSets:  map[string]*appsv1.StatefulSet{},
		deployments:   map[string]*appsv1.Deployment{},
		secretData:    map[string]map[string][]byte{},
		configMapData: map[string]map[string]string{},
		secretErrs:    map[string]error{},
		failures:      map[string]error{},
	}
}

// requeue asks for another reconcile after d unless an earlier phase asked sooner.
func (s *reconcileState) requeue(d time.Duration) {
	if s.requeueAfter == 0 || d < s.requeueAfter {
		s.requeueAfter = d
	}
}

// fail records err against a component's condition and returns it.
func (s *reconcileState) fail(conditionType string, err error) error {
	s.failures[conditionType] = errors.Join(s.failures[conditionType], err)
	return err
}

// SetupWithManager watches the LittleEcoms and every child they own, so that a child
// deleted or edited by hand is put back.
func (r *LittleEcomReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.gateway = newGatewayAPI(mgr)
	r.certManager = newCertManager(mgr)
	r.prometheusOperator = newPrometheusOperator(mgr)
	r.monitorCache = mgr.GetCache()
	b := ctrl.NewControllerManagedBy(mgr).
		For(&shopv1.LittleEcom{}).
		Owns(&appsv1.StatefulSet{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.Secret{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.ServiceAccount{}).
		Owns(&networkingv1.Ingress{})
	b = watchLoggingAndPolicies(b, len(r.Namespaces) == 0)
	b, err := r.watchUserSecrets(mgr, b)
	if err != nil {
		return err
	}
	// HTTPRoutes only when the Gateway API CRDs are installed: a watch on a missing kind fails.
	b, routesWatched := ownRoutes(r.gateway, b)
	c, err := b.Named("littleecom").Build(r)
	if err != nil {
		return err
	}
	r.gateway.startedWith(c, routesWatched)
	r.prometheusOperator.startedWith(c, false)
	return nil
}
