package controllers

import (
	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/controller-runtime/pkg/builder"
)

// RBAC of the logging stack and the policies. Fluentd's ClusterRole grants get/list/watch
// on pods and namespaces; Kubernetes lets the operator create such a role (and bind it) only
// if it holds those permissions itself or has the escalate/bind verbs. Holding the same read
// permissions is the narrower choice, hence the pods/namespaces rule.
// +kubebuilder:rbac:groups=apps,resources=daemonsets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterrolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods;namespaces,verbs=get;list;watch

// watchLoggingAndPolicies adds the watches of the logging stack's and the policies'
// children: owned namespaced kinds, and the cluster-scoped ClusterRole and binding, which
// are mapped back to their LittleEcom by labels (they cannot carry an owner reference).
func watchLoggingAndPolicies(b *builder.Builder) *builder.Builder {
	b = b.Owns(&appsv1.DaemonSet{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Owns(&policyv1.PodDisruptionBudget{})
	for _, t := range clusterChildTypes {
		b = b.Watches(t, enqueueClusterChildOwner())
	}
	return b
}
