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
func CacheOptions() cache.Options {
	managed := labels.SelectorFromSet(labels.Set{resource.LabelManagedBy: resource.ManagedBy})
	return cache.Options{ByObject: map[client.Object]cache.ByObject{
		&corev1.Secret{}:    {Label: managed},
		&corev1.ConfigMap{}: {Label: managed},
		// Fluentd's ClusterRole and binding: the cluster's other RBAC objects are not ours.
		&rbacv1.ClusterRole{}:        {Label: managed},
		&rbacv1.ClusterRoleBinding{}: {Label: managed},
	}}
}

// Setup registers the LittleEcom reconciler with mgr, the same way for the manager binary,
// the envtest suite, the benchmark and the local dev runner.
func Setup(mgr ctrl.Manager, replicaSet ReplicaSetManager) (*LittleEcomReconciler, error) {
	r := &LittleEcomReconciler{
		Client:     mgr.GetClient(),
		APIReader:  mgr.GetAPIReader(),
		Scheme:     mgr.GetScheme(),
		Recorder:   mgr.GetEventRecorder("littleecom-operator"),
		ReplicaSet: replicaSet,
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
