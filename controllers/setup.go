package controllers

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// CacheOptions keeps only the operator's own Secrets, ConfigMaps, ClusterRoles and
// ClusterRoleBindings in the informer cache: a cluster's Secrets can be many and large, and
// the operator must not hold them all in memory. Secrets a user names in the spec are read
// through the API reader instead, and their changes seen through a metadata-only watch
// (watches_user_secrets.go).
//
// With namespaces (a namespace-scoped installation, --watch-namespaces) every namespaced
// informer lists and watches only those namespaces, so the operator needs rights there and
// nowhere else, and a LittleEcom elsewhere is never seen. The cluster-scoped ClusterRoles
// and bindings are then not cached at all: the operator may not read them.
func CacheOptions(namespaces ...string) cache.Options {
	managed := labels.SelectorFromSet(labels.Set{resource.LabelManagedBy: resource.ManagedBy})
	opts := cache.Options{ByObject: map[client.Object]cache.ByObject{
		&corev1.Secret{}:    {Label: managed},
		&corev1.ConfigMap{}: {Label: managed},
	}}
	if len(namespaces) == 0 {
		// Fluentd's ClusterRole and binding: the cluster's other RBAC objects are not ours.
		opts.ByObject[&rbacv1.ClusterRole{}] = cache.ByObject{Label: managed}
		opts.ByObject[&rbacv1.ClusterRoleBinding{}] = cache.ByObject{Label: managed}
		return opts
	}
	opts.DefaultNamespaces = namespaceConfigs(namespaces)
	return opts
}

// namespaceConfigs makes a cache watch the given namespaces only; none means all of them.
func namespaceConfigs(namespaces []string) map[string]cache.Config {
	if len(namespaces) == 0 {
		return nil
	}
	out := make(map[string]cache.Config, len(namespaces))
	for _, ns := range namespaces {
		out[ns] = cache.Config{}
	}
	return out
}

// Options are the operator's settings that reach the reconciler.
type Options struct {
	// Images are the default images of shops that name none; zero means DefaultImages.
	Images resource.Images
	// Namespaces, when set, is a namespace-scoped installation: the only namespaces the
	// operator watches and may write in (CacheOptions must be given the same list). Features
	// that need cluster-scoped objects (the logging stack's Fluentd ClusterRole) are
	// refused there with a condition that says so.
	Namespaces []string
}

// Setup registers the LittleEcom reconciler with mgr, the same way for the manager binary,
// the envtest suite, the benchmark and the local dev runner, with the default Options.
func Setup(mgr ctrl.Manager, replicaSet ReplicaSetManager) (*LittleEcomReconciler, error) {
	return SetupWithOptions(mgr, replicaSet, Options{})
}

// SetupWithOptions is Setup with the operator's settings.
func SetupWithOptions(mgr ctrl.Manager, replicaSet ReplicaSetManager, opts Options) (*LittleEcomReconciler, error) {
	images := opts.Images
	if images == (resource.Images{}) {
		images = resource.DefaultImages()
	}
	if err := images.Validate(); err != nil {
		return nil, err
	}
	r := &LittleEcomReconciler{
		Client:     mgr.GetClient(),
		APIReader:  mgr.GetAPIReader(),
		Scheme:     mgr.GetScheme(),
		Recorder:   mgr.GetEventRecorder("littleecom-operator"),
		ReplicaSet: replicaSet,
		Images:     images,
		Namespaces: opts.Namespaces,
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the LittleEcom controller: %w", err)
	}
	return r, nil
}

// NewScheme is the operator's scheme: Kubernetes' types, LittleEcom, and the Gateway API
// (registered always; whether its CRDs are installed is found out at setup).
func NewScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(shopv1.AddToScheme(scheme))
	utilruntime.Must(gatewayv1.Install(scheme))
	return scheme
}
