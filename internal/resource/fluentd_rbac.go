package resource

import (
	"errors"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FluentdAccess is how far Fluentd's Kubernetes metadata filter may read the API. It is the
// operator's administrator's decision (the manager's configuration), never a shop's: anyone
// who may edit a LittleEcom would otherwise obtain cluster-wide read rights through the
// operator (a confused deputy).
type FluentdAccess struct {
	// ClusterRole names a ClusterRole the administrator installed (read pods and
	// namespaces, config/logging-cluster-metadata) that the operator binds Fluentd's
	// ServiceAccount to. Empty (the default): Fluentd reads only the pods of its own
	// namespace, through a Role, and records carry no namespace labels or annotations.
	ClusterRole string
}

// ClusterWide says whether Fluentd reads the API through the administrator's ClusterRole.
func (a FluentdAccess) ClusterWide() bool { return a.ClusterRole != "" }

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

// FluentdRoleRules let the metadata filter read the pods of the shop's namespace, one by
// name (it runs with `watch false`, so it neither lists nor watches).
var FluentdRoleRules = []rbacv1.PolicyRule{{
	APIGroups: []string{""},
	Resources: []string{"pods"},
	Verbs:     []string{"get"},
}}

// fluentdRoleBuilder is the namespaced Role of Fluentd's default access.
type fluentdRoleBuilder struct{ shop *Shop }

// FluentdRole returns the builder of Role `<n>-fluentd`; it exists while logging is on and
// the administrator granted no cluster-wide access.
func (s *Shop) FluentdRole(access FluentdAccess) Builder {
	return optional{Builder: &fluentdRoleBuilder{shop: s}, enabled: s.LoggingEnabled() && !access.ClusterWide()}
}

// Build implements Builder.
func (b *fluentdRoleBuilder) Build() client.Object {
	return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: b.shop.Names.Fluentd(), Namespace: b.shop.Instance.Namespace}}
}

// Update implements Builder.
func (b *fluentdRoleBuilder) Update(obj client.Object) error {
	role, ok := obj.(*rbacv1.Role)
	if !ok {
		return typeError("Role", obj)
	}
	if err := b.shop.setOwnerAndLabels(role, ComponentFluentd); err != nil {
		return err
	}
	role.Rules = FluentdRoleRules
	return nil
}

// fluentdRoleBindingBuilder binds the Role to Fluentd's ServiceAccount.
type fluentdRoleBindingBuilder struct{ shop *Shop }

// FluentdRoleBinding returns the builder of RoleBinding `<n>-fluentd`, enabled as FluentdRole.
func (s *Shop) FluentdRoleBinding(access FluentdAccess) Builder {
	return optional{Builder: &fluentdRoleBindingBuilder{shop: s}, enabled: s.LoggingEnabled() && !access.ClusterWide()}
}

// Build implements Builder.
func (b *fluentdRoleBindingBuilder) Build() client.Object {
	return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: b.shop.Names.Fluentd(), Namespace: b.shop.Instance.Namespace}}
}

// Update implements Builder.
func (b *fluentdRoleBindingBuilder) Update(obj client.Object) error {
	binding, ok := obj.(*rbacv1.RoleBinding)
	if !ok {
		return typeError("RoleBinding", obj)
	}
	s := b.shop
	if err := s.setOwnerAndLabels(binding, ComponentFluentd); err != nil {
		return err
	}
	if binding.CreationTimestamp.IsZero() {
		// roleRef is immutable.
		binding.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: s.Names.Fluentd()}
	}
	binding.Subjects = s.fluentdSubjects()
	return nil
}

func (s *Shop) fluentdSubjects() []rbacv1.Subject {
	return []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: s.Names.Fluentd(), Namespace: s.Instance.Namespace}}
}

// fluentdClusterRoleBuilder names the ClusterRole operators before this release created for
// every shop with logging. The operator no longer creates it; it only deletes what is left
// (an upgraded shop, the finalizer).
type fluentdClusterRoleBuilder struct{ shop *Shop }

// FluentdClusterRole returns the builder of the former ClusterRole
// `littleecom-<ns>-<n>-fluentd`, for its removal.
func (s *Shop) FluentdClusterRole() Builder { return &fluentdClusterRoleBuilder{shop: s} }

// Build implements Builder.
func (b *fluentdClusterRoleBuilder) Build() client.Object {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: b.shop.Names.FluentdClusterRole()}}
}

// errNotApplied is returned by builders of objects the operator only removes.
var errNotApplied = errors.New("the operator no longer creates this object, it only removes it")

// Update implements Builder: the ClusterRole is never applied.
func (b *fluentdClusterRoleBuilder) Update(client.Object) error { return errNotApplied }

// fluentdClusterRoleBindingBuilder binds the administrator's ClusterRole to Fluentd's
// ServiceAccount. It has no owner (cluster-scoped): the reconciler deletes it explicitly,
// also through the finalizer when the LittleEcom goes.
type fluentdClusterRoleBindingBuilder struct {
	shop        *Shop
	clusterRole string
}

// FluentdClusterRoleBinding returns the builder of ClusterRoleBinding
// `littleecom-<ns>-<n>-fluentd` to access.ClusterRole. Without one it only names the
// binding (for its removal) and refuses to apply.
func (s *Shop) FluentdClusterRoleBinding(access ...FluentdAccess) Builder {
	b := &fluentdClusterRoleBindingBuilder{shop: s}
	if len(access) > 0 {
		b.clusterRole = access[0].ClusterRole
	}
	return b
}

// Build implements Builder.
func (b *fluentdClusterRoleBindingBuilder) Build() client.Object {
	return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: b.shop.Names.FluentdClusterRole()}}
}

// Update implements Builder. A binding to another ClusterRole (the administrator renamed it)
// cannot be changed, roleRef being immutable: FluentdClusterRoleBindingStale tells the
// reconciler to delete it first.
func (b *fluentdClusterRoleBindingBuilder) Update(obj client.Object) error {
	binding, ok := obj.(*rbacv1.ClusterRoleBinding)
	if !ok {
		return typeError("ClusterRoleBinding", obj)
	}
	if b.clusterRole == "" {
		return errNotApplied
	}
	s := b.shop
	s.setClusterLabels(binding, ComponentFluentd)
	if binding.CreationTimestamp.IsZero() {
		binding.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: b.clusterRole}
	}
	binding.Subjects = s.fluentdSubjects()
	return nil
}

// FluentdClusterRoleBindingStale says whether an existing binding points at a ClusterRole
// other than access's, and so must be replaced.
func FluentdClusterRoleBindingStale(binding *rbacv1.ClusterRoleBinding, access FluentdAccess) bool {
	return binding.RoleRef.Kind != "ClusterRole" || binding.RoleRef.Name != access.ClusterRole
}
