package resource

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ClusterLabels are the labels of a shop's cluster-scoped children: the usual ones plus the
// shop's namespace, which with the instance label maps them back to their LittleEcom (an
// owner reference cannot point from a cluster-scoped object to a namespaced one).
func (s *Shop) ClusterLabels(component string) map[string]string {
	l := Labels(s.Instance.Name, component)
	l[LabelNamespace] = s.Instance.Namespace
	return l
}

// setClusterLabels applies ClusterLabels, keeping labels others added.
func (s *Shop) setClusterLabels(obj client.Object, component string) {
	labels := obj.GetLabels()
	mergeInto(&labels, s.ClusterLabels(component))
	obj.SetLabels(labels)
}

// FluentdClusterRoleRules let the Kubernetes metadata filter read pods and namespaces.
var FluentdClusterRoleRules = []rbacv1.PolicyRule{{
	APIGroups: []string{""},
	Resources: []string{"pods", "namespaces"},
	Verbs:     []string{"get", "list", "watch"},
}}

// fluentdClusterRoleBuilder is Fluentd's ClusterRole. It has no owner: the reconciler
// creates it only while logging is enabled and deletes it explicitly (also through the
// finalizer when the LittleEcom goes).
type fluentdClusterRoleBuilder struct{ shop *Shop }

// FluentdClusterRole returns the builder of ClusterRole `littleecom-<ns>-<n>-fluentd`.
func (s *Shop) FluentdClusterRole() Builder { return &fluentdClusterRoleBuilder{shop: s} }

// Build implements Builder.
func (b *fluentdClusterRoleBuilder) Build() client.Object {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: b.shop.Names.FluentdClusterRole()}}
}

// Update implements Builder.
func (b *fluentdClusterRoleBuilder) Update(obj client.Object) error {
	role, ok := obj.(*rbacv1.ClusterRole)
	if !ok {
		return typeError("ClusterRole", obj)
	}
	b.shop.setClusterLabels(role, ComponentFluentd)
	role.Rules = FluentdClusterRoleRules
	return nil
}

// fluentdClusterRoleBindingBuilder binds the ClusterRole to Fluentd's ServiceAccount.
type fluentdClusterRoleBindingBuilder struct{ shop *Shop }

// FluentdClusterRoleBinding returns the builder of ClusterRoleBinding
// `littleecom-<ns>-<n>-fluentd`.
func (s *Shop) FluentdClusterRoleBinding() Builder { return &fluentdClusterRoleBindingBuilder{shop: s} }

// Build implements Builder.
func (b *fluentdClusterRoleBindingBuilder) Build() client.Object {
	return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: b.shop.Names.FluentdClusterRole()}}
}

// Update implements Builder.
func (b *fluentdClusterRoleBindingBuilder) Update(obj client.Object) error {
	binding, ok := obj.(*rbacv1.ClusterRoleBinding)
	if !ok {
		return typeError("ClusterRoleBinding", obj)
	}
	s := b.shop
	s.setClusterLabels(binding, ComponentFluentd)
	if binding.CreationTimestamp.IsZero() {
		// roleRef is immutable.
		binding.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: s.Names.FluentdClusterRole()}
	}
	binding.Subjects = []rbacv1.Subject{{
		Kind: rbacv1.ServiceAccountKind, APIGroup: "", Name: s.Names.Fluentd(), Namespace: s.Instance.Namespace,
	}}
	return nil
}
