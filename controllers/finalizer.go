package controllers

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// ClusterResourcesFinalizer holds a LittleEcom back from deletion until the operator removed
// its cluster-scoped children (Fluentd's ClusterRole and ClusterRoleBinding), which owner
// references cannot remove. It is present exactly while such children may exist: added when
// logging is enabled, removed when a disabled stack's children are gone. A shop without
// logging has no finalizer and is deleted even when the operator is not running.
const ClusterResourcesFinalizer = "shop.littleecom.io/cluster-resources"

func (r *LittleEcomReconciler) ensureClusterResourcesFinalizer(ctx context.Context, shop *shopv1.LittleEcom) error {
	if controllerutil.ContainsFinalizer(shop, ClusterResourcesFinalizer) {
		return nil
	}
	controllerutil.AddFinalizer(shop, ClusterResourcesFinalizer)
	if err := r.Update(ctx, shop); err != nil {
		return fmt.Errorf("adding finalizer %s: %w", ClusterResourcesFinalizer, err)
	}
	return nil
}

func (r *LittleEcomReconciler) removeClusterResourcesFinalizer(ctx context.Context, shop *shopv1.LittleEcom) error {
	if !controllerutil.ContainsFinalizer(shop, ClusterResourcesFinalizer) {
		return nil
	}
	controllerutil.RemoveFinalizer(shop, ClusterResourcesFinalizer)
	if err := r.Update(ctx, shop); err != nil {
		return fmt.Errorf("removing finalizer %s: %w", ClusterResourcesFinalizer, err)
	}
	return nil
}

// finalize runs while a LittleEcom is being deleted: it deletes the cluster-scoped children,
// then removes the finalizer so that the deletion completes. The namespaced children go
// with their owner references.
func (r *LittleEcomReconciler) finalize(ctx context.Context, instance *shopv1.LittleEcom) error {
	if !controllerutil.ContainsFinalizer(instance, ClusterResourcesFinalizer) {
		return nil
	}
	if err := r.deleteClusterResources(ctx, resource.NewShop(instance, r.Scheme)); err != nil {
		return err
	}
	return client.IgnoreNotFound(r.removeClusterResourcesFinalizer(ctx, instance))
}

// deleteClusterResources deletes the shop's ClusterRoleBinding and ClusterRole when they
// exist and carry the shop's labels (never an object someone else made under the name).
func (r *LittleEcomReconciler) deleteClusterResources(ctx context.Context, s *resource.Shop) error {
	labelled := func(obj client.Object) bool {
		l := obj.GetLabels()
		return l[resource.LabelInstance] == s.Instance.Name && l[resource.LabelNamespace] == s.Instance.Namespace
	}
	for _, obj := range []client.Object{s.FluentdClusterRoleBinding().Build(), s.FluentdClusterRole().Build()} {
		if err := r.deleteOwned(ctx, s.Instance, obj, labelled); err != nil {
			return err
		}
	}
	return nil
}

// enqueueClusterChildOwner maps a cluster-scoped child (ClusterRole, ClusterRoleBinding)
// back to its LittleEcom by its instance and namespace labels, so that one deleted or
// edited by hand is put back.
func enqueueClusterChildOwner() handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		l := obj.GetLabels()
		if l[resource.LabelManagedBy] != resource.ManagedBy || l[resource.LabelInstance] == "" || l[resource.LabelNamespace] == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: l[resource.LabelNamespace], Name: l[resource.LabelInstance]}}}
	})
}

// clusterChildTypes are the cluster-scoped kinds the operator creates.
var clusterChildTypes = []client.Object{&rbacv1.ClusterRole{}, &rbacv1.ClusterRoleBinding{}}
