package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// A Secret the user names in the spec (credentialsSecretRef) carries none of our labels, so
// the manager's cache, which keeps only the operator's own Secrets, never sees it change.
// A second cache watches the metadata of every Secret (names, labels, resourceVersion; no
// data, no managed fields): a change to one that a shop names reconciles that shop at once,
// which rolls the workloads that read it. Holding the data of every Secret in the cluster is
// what CacheOptions avoids; metadata costs a few hundred bytes a Secret.

// secretMetadata is the PartialObjectMetadata type of Secrets.
func secretMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return m
}

// userSecretIndex indexes the shops in the manager's cache by the Secrets their spec names
// (resource.UserSecretNames), so that a Secret event finds its shops without listing all.
const userSecretIndex = "littleecom.userSecretNames"

// watchUserSecrets indexes the shops by the user Secrets they name and adds to b a watch on
// Secret metadata through a cache of its own, which the manager starts and stops. It runs
// once per manager: an index can be registered only once.
func (r *LittleEcomReconciler) watchUserSecrets(mgr ctrl.Manager, b *builder.Builder) (*builder.Builder, error) {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &shopv1.LittleEcom{}, userSecretIndex,
		func(obj client.Object) []string {
			shop, ok := obj.(*shopv1.LittleEcom)
			if !ok {
				return nil
			}
			return resource.UserSecretNames(shop)
		}); err != nil {
		return nil, fmt.Errorf("indexing shops by their user Secrets: %w", err)
	}
	c, err := cache.New(mgr.GetConfig(), cache.Options{
		Scheme:           mgr.GetScheme(),
		Mapper:           mgr.GetRESTMapper(),
		DefaultTransform: cache.TransformStripManagedFields(),
		// A namespace-scoped installation may list Secrets in its namespaces only (setup.go).
		DefaultNamespaces: namespaceConfigs(r.Namespaces),
	})
	if err != nil {
		return nil, fmt.Errorf("creating the Secret metadata cache: %w", err)
	}
	if err := mgr.Add(c); err != nil {
		return nil, fmt.Errorf("adding the Secret metadata cache: %w", err)
	}
	return b.WatchesRawSource(source.Kind(c, secretMetadata(),
		handler.TypedEnqueueRequestsFromMapFunc(r.shopsNamingSecret),
		predicate.TypedResourceVersionChangedPredicate[*metav1.PartialObjectMetadata]{})), nil
}

// shopsNamingSecret returns the shops in the Secret's namespace whose spec names it. The
// operator's own Secrets are watched through their owner already.
func (r *LittleEcomReconciler) shopsNamingSecret(ctx context.Context, s *metav1.PartialObjectMetadata) []reconcile.Request {
	if s.Labels[resource.LabelManagedBy] == resource.ManagedBy {
		return nil
	}
	shops := &shopv1.LittleEcomList{}
	if err := r.List(ctx, shops, client.InNamespace(s.Namespace), client.MatchingFields{userSecretIndex: s.Name}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing shops for a changed Secret", "secret", s.Name)
		return nil
	}
	var reqs []reconcile.Request
	for i := range shops.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{
			Namespace: shops.Items[i].Namespace, Name: shops.Items[i].Name}})
	}
	return reqs
}
