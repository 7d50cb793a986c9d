package controllers

import (
	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/builder"
)

// RBAC of the logging stack and the policies. Fluentd's Role grants get on pods; Kubernetes
// lets the operator create such a Role only if it holds that permission itself (or may
// escalate), hence the pods rule. The operator creates no ClusterRole: it reads and deletes
// the ones earlier releases made. Binding Fluentd to the administrator's ClusterRole needs
// create on clusterrolebindings and bind on that one role, which only the opt-in overlay
// config/logging-cluster-metadata grants.
// +kubebuilder:rbac:groups=apps,resources=daemonsets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles;clusterrolebindings,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get

// watchLoggingAndPolicies adds the watches of the logging stack's and the policies'
// children: owned namespaced kinds, and the cluster-scoped ClusterRoleBinding (and former
// ClusterRole), which are mapped back to their LittleEcom by labels (they cannot carry an
// owner reference).
//
// A namespace-scoped installation (clusterWide false) may not read cluster-scoped objects
// and creates none, so it does not watch them.
func watchLoggingAndPolicies(b *builder.Builder, clusterWide bool) *builder.Builder {
	b = b.Owns(&appsv1.DaemonSet{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{})
	if !clusterWide {
		return b
	}
	for _, t := range clusterChildTypes {
		b = b.Watches(t, enqueueClusterChildOwner())
	}
	return b
}
