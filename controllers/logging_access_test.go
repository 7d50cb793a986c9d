package controllers

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// Fluentd's cluster-wide metadata is the operator administrator's decision: these specs
// change the reconciler's AdminSettings as a restart with other flags would.
var _ = Describe("Fluentd's access to the API", func() {
	var ns string
	const name = loggingShop

	BeforeEach(func() { ns = newNamespace() })

	loggingReady := func(g Gomega) *metav1.Condition {
		le := &shopv1.LittleEcom{}
		g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
		c := condition(le, shopv1.ConditionLoggingReady)
		g.Expect(c).NotTo(BeNil())
		return c
	}

	Context("when the administrator names a ClusterRole for Fluentd", func() {
		It("refuses plainly while the role is missing, then binds it behind a finalizer instead of the Role", func() {
			roleName := fmt.Sprintf("littleecom-fluentd-metadata-%s", ns)
			withAdminSettings(AdminSettings{Fluentd: resource.FluentdAccess{ClusterRole: roleName}})
			le := newShop(ns, name)
			withLogging(le)
			Expect(k8sClient.Create(ctx, le)).To(Succeed())

			By("saying that the administrator's ClusterRole does not exist")
			Eventually(func(g Gomega) {
				c := loggingReady(g)
				g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
				g.Expect(c.Reason).To(Equal(shopv1.ReasonReconcileFailed))
				g.Expect(c.Message).To(And(ContainSubstring(roleName), ContainSubstring("does not exist"),
					ContainSubstring(EnvFluentdClusterRole)))
			}, timeout, interval).Should(Succeed())
			Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: clusterRoleName(ns)}, &rbacv1.ClusterRoleBinding{}))).
				To(BeTrue(), "no binding to a role that does not exist")

			By("installing the role, as config/logging-cluster-metadata does")
			role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: roleName}, Rules: []rbacv1.PolicyRule{{
				APIGroups: []string{""}, Resources: []string{"pods", "namespaces"}, Verbs: []string{"get", "list", "watch"}}}}
			Expect(k8sClient.Create(ctx, role)).To(Succeed())
			DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, role))).To(Succeed()) })
			// The role is no child of ours: nothing watches it. A spec change stands in for the
			// periodic resync.
			updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Annotations = map[string]string{"test/poke": "1"} })

			expectClusterRBAC(ns, true)
			binding := &rbacv1.ClusterRoleBinding{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Name: clusterRoleName(ns)}, binding)).To(Succeed())
			Expect(binding.RoleRef).To(Equal(rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: roleName}))
			Expect(binding.Subjects).To(ConsistOf(rbacv1.Subject{Kind: "ServiceAccount", Name: name + "-fluentd", Namespace: ns}))
			Expect(binding.Labels).To(HaveKeyWithValue(resource.LabelNamespace, ns))
			Eventually(func(g Gomega) {
				le := &shopv1.LittleEcom{}
				g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
				g.Expect(controllerutil.ContainsFinalizer(le, ClusterResourcesFinalizer)).To(BeTrue())
				g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, name+"-fluentd"), &rbacv1.Role{}))).To(BeTrue())
				cm := &corev1.ConfigMap{}
				g.Expect(k8sClient.Get(ctx, key(ns, name+"-fluentd"), cm)).To(Succeed())
				g.Expect(cm.Data[resource.FluentdConfKey]).NotTo(ContainSubstring("watch false"))
			}, timeout, interval).Should(Succeed())

			By("deleting the LittleEcom, the binding goes with it")
			Expect(k8sClient.Delete(ctx, newShop(ns, name))).To(Succeed())
			expectClusterRBAC(ns, false)
			Eventually(func() bool {
				return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, name), &shopv1.LittleEcom{}))
			}, timeout, interval).Should(BeTrue())
			Expect(k8sClient.Get(ctx, client.ObjectKey{Name: roleName}, &rbacv1.ClusterRole{})).
				To(Succeed(), "the administrator's ClusterRole is not the operator's to delete")
		})

		It("returns to the namespaced Role when the administrator withdraws the grant", func() {
			roleName := fmt.Sprintf("littleecom-fluentd-metadata-%s", ns)
			role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: roleName}}
			Expect(k8sClient.Create(ctx, role)).To(Succeed())
			DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, role))).To(Succeed()) })
			withAdminSettings(AdminSettings{Fluentd: resource.FluentdAccess{ClusterRole: roleName}})
			le := newShop(ns, name)
			withLogging(le)
			Expect(k8sClient.Create(ctx, le)).To(Succeed())
			expectClusterRBAC(ns, true)

			reconciler.SetAdminSettings(AdminSettings{})
			updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Annotations = map[string]string{"test/poke": "1"} })
			expectClusterRBAC(ns, false)
			eventually(ns, name+"-fluentd", &rbacv1.Role{})
			Eventually(func(g Gomega) {
				le := &shopv1.LittleEcom{}
				g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
				g.Expect(controllerutil.ContainsFinalizer(le, ClusterResourcesFinalizer)).To(BeFalse())
			}, timeout, interval).Should(Succeed())
		})
	})

	Context("when an earlier release left a per-shop ClusterRole, binding and finalizer (upgrade)", func() {
		It("removes them and the finalizer, and gives Fluentd its namespaced Role", func() {
			// What the operator before this release created for every shop with logging.
			labels := map[string]string{
				resource.LabelInstance: name, resource.LabelNamespace: ns, resource.LabelManagedBy: resource.ManagedBy,
				resource.LabelComponent: resource.ComponentFluentd, resource.LabelPartOf: resource.PartOf,
			}
			role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: clusterRoleName(ns), Labels: labels},
				Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods", "namespaces"}, Verbs: []string{"get", "list", "watch"}}}}
			binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: clusterRoleName(ns), Labels: labels},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRoleName(ns)},
				Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: name + "-fluentd", Namespace: ns}}}
			Expect(k8sClient.Create(ctx, role)).To(Succeed())
			Expect(k8sClient.Create(ctx, binding)).To(Succeed())
			le := newShop(ns, name)
			withLogging(le)
			le.Finalizers = []string{ClusterResourcesFinalizer}
			Expect(k8sClient.Create(ctx, le)).To(Succeed())

			expectClusterRBAC(ns, false)
			eventually(ns, name+"-fluentd", &rbacv1.Role{})
			Eventually(func(g Gomega) {
				le := &shopv1.LittleEcom{}
				g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
				g.Expect(controllerutil.ContainsFinalizer(le, ClusterResourcesFinalizer)).To(BeFalse())
			}, timeout, interval).Should(Succeed())
		})

		It("leaves a ClusterRole of the same name that is not the shop's alone", func() {
			foreign := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: clusterRoleName(ns)}}
			Expect(k8sClient.Create(ctx, foreign)).To(Succeed())
			DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, foreign))).To(Succeed()) })
			le := newShop(ns, name)
			withLogging(le)
			le.Finalizers = []string{ClusterResourcesFinalizer}
			Expect(k8sClient.Create(ctx, le)).To(Succeed())
			Eventually(func(g Gomega) {
				le := &shopv1.LittleEcom{}
				g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
				g.Expect(controllerutil.ContainsFinalizer(le, ClusterResourcesFinalizer)).To(BeFalse())
			}, timeout, interval).Should(Succeed())
			Consistently(func() error {
				return k8sClient.Get(ctx, client.ObjectKey{Name: clusterRoleName(ns)}, &rbacv1.ClusterRole{})
			}, time.Second, interval).Should(Succeed())
		})
	})
})
