package controllers

import (
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"littleecom.io/littleecom/internal/resource"
)

// readClusterRoles reads the ClusterRoles of a manifest file (documents separated by ---).
func readClusterRoles(path string) []rbacv1.ClusterRole {
	b, err := os.ReadFile(path)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	var roles []rbacv1.ClusterRole
	for doc := range strings.SplitSeq(string(b), "\n---") {
		var r rbacv1.ClusterRole
		ExpectWithOffset(1, yaml.Unmarshal([]byte(doc), &r)).To(Succeed())
		if r.Kind == "ClusterRole" {
			roles = append(roles, r)
		}
	}
	return roles
}

// The API server's RBAC escalation checks decide what the operator may grant: these specs
// give an identity exactly the manager's generated ClusterRole (config/rbac/role.yaml), and
// then the opt-in overlay's binder role, and act as it.
var _ = Describe("The operator's RBAC for Fluentd", func() {
	var ns, suffix string
	var asOperator client.Client

	// grant binds a copy of role (renamed with the spec's suffix) to the operator identity.
	grant := func(role rbacv1.ClusterRole) {
		role.ObjectMeta = metav1.ObjectMeta{Name: role.Name + "-" + suffix}
		Expect(k8sClient.Create(ctx, &role)).To(Succeed())
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: role.Name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "operator", Namespace: ns}},
		}
		Expect(k8sClient.Create(ctx, binding)).To(Succeed())
		DeferCleanup(func() {
			Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, binding))).To(Succeed())
			Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, &role))).To(Succeed())
		})
	}
	fluentdBinding := func(roleName string) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "fluentd-" + suffix + "-" + roleName},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: roleName},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "shop-fluentd", Namespace: ns}},
		}
	}

	BeforeEach(func() {
		ns = newNamespace()
		suffix = ns
		impersonated := rest.CopyConfig(cfg)
		impersonated.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":operator"}
		var err error
		asOperator, err = client.New(impersonated, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		for _, r := range readClusterRoles(filepath.Join("..", "config", "rbac", "role.yaml")) {
			grant(r)
		}
	})

	It("may create Fluentd's namespaced Role, and may not bind any ClusterRole", func() {
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "shop-fluentd", Namespace: ns}, Rules: resource.FluentdRoleRules}
		Expect(asOperator.Create(ctx, role)).To(Succeed(), "the manager role must hold what it grants Fluentd")
		wider := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "wider", Namespace: ns}, Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"list"}}}}
		Expect(apierrors.IsForbidden(asOperator.Create(ctx, wider))).To(BeTrue(),
			"the operator no longer holds namespace reads, so it cannot hand them out")

		metadata := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "metadata-" + suffix}, Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"pods", "namespaces"}, Verbs: []string{"get", "list", "watch"}}}}
		Expect(apierrors.IsForbidden(asOperator.Create(ctx, metadata))).To(BeTrue(), "the operator creates no ClusterRole")
		Expect(k8sClient.Create(ctx, metadata)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, metadata))).To(Succeed()) })
		Expect(apierrors.IsForbidden(asOperator.Create(ctx, fluentdBinding(metadata.Name)))).To(BeTrue(),
			"without the overlay the operator binds no ClusterRole")
	})

	It("with config/logging-cluster-metadata binds exactly the administrator's ClusterRole", func() {
		overlay := filepath.Join("..", "config", "logging-cluster-metadata")
		metadata := readClusterRoles(filepath.Join(overlay, "fluentd_metadata_role.yaml"))
		Expect(metadata).To(HaveLen(1))
		installed := metadata[0]
		Expect(k8sClient.Create(ctx, &installed)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, &installed))).To(Succeed()) })
		binders := readClusterRoles(filepath.Join(overlay, "operator_binder_role.yaml"))
		Expect(binders).To(HaveLen(1))
		grant(binders[0])

		binding := fluentdBinding(installed.Name)
		Expect(asOperator.Create(ctx, binding)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, binding))).To(Succeed()) })
		Expect(apierrors.IsForbidden(asOperator.Create(ctx, fluentdBinding("cluster-admin")))).To(BeTrue(),
			"bind is granted on littleecom-fluentd-metadata by name, on no other role")
	})
})
