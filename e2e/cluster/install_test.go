package cluster

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// operatorUser is the manager's ServiceAccount as the API server's authorizer names it.
func operatorUser() string {
	return "system:serviceaccount:" + env.operatorNamespace + ":" + operatorDeployment
}

// The node installs the operator as a cluster admin following the README would: with the Helm
// chart, namespace-scoped (hack/cluster-shop.sh). These specs check that installation on the
// real API server: the release is Helm's, the manager's rights end at the namespace it
// watches, and a shop anywhere else is not touched.
func describeInstallation() {
	Context("the operator installed with its Helm chart, namespace-scoped", func() {
		It("is a Helm release", func(ctx SpecContext) {
			dep := &appsv1.Deployment{}
			Expect(k8s.Get(ctx, client.ObjectKey{Namespace: env.operatorNamespace, Name: operatorDeployment}, dep)).To(Succeed())
			Expect(dep.Labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "Helm"))
			Expect(dep.Labels).To(HaveKey("helm.sh/chart"))
			var releases corev1.SecretList
			Expect(k8s.List(ctx, &releases, client.InNamespace(env.operatorNamespace),
				client.MatchingLabels{"owner": "helm", "name": "littleecom", "status": "deployed"})).To(Succeed())
			Expect(releases.Items).To(HaveLen(1), "one deployed revision of the release littleecom")
			Expect(dep.Spec.Template.Spec.Containers[0].Args).To(ContainElement("--watch-namespaces=" + env.namespace))
		})

		It("holds the manager's rights only in the namespace it watches", func(ctx SpecContext) {
			allowed := func(namespace, verb, group, res string) bool {
				GinkgoHelper()
				sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
					User: operatorUser(),
					ResourceAttributes: &authorizationv1.ResourceAttributes{
						Namespace: namespace, Verb: verb, Group: group, Resource: res,
					},
				}}
				got, err := k8s.kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
				Expect(err).NotTo(HaveOccurred())
				return got.Status.Allowed
			}
			Expect(allowed(env.namespace, "create", "apps", "statefulsets")).To(BeTrue(), "StatefulSets in %s", env.namespace)
			Expect(allowed(env.namespace, "get", "", "secrets")).To(BeTrue(), "Secrets in %s", env.namespace)
			for _, ns := range []string{env.infraNamespace, "default", "kube-system"} {
				Expect(allowed(ns, "get", "", "secrets")).To(BeFalse(), "Secrets in %s", ns)
				Expect(allowed(ns, "create", "apps", "deployments")).To(BeFalse(), "Deployments in %s", ns)
			}
			Expect(allowed("", "list", "", "secrets")).To(BeFalse(), "Secrets of every namespace")
			Expect(allowed("", "list", "shop.littleecom.io", "littleecoms")).To(BeFalse(), "LittleEcoms of every namespace")
			Expect(allowed("", "create", "rbac.authorization.k8s.io", "clusterrolebindings")).To(BeFalse(), "ClusterRoleBindings")

			var bindings rbacv1.ClusterRoleBindingList
			Expect(k8s.List(ctx, &bindings)).To(Succeed())
			for _, b := range bindings.Items {
				for _, s := range b.Subjects {
					if s.Kind == rbacv1.ServiceAccountKind && s.Namespace == env.operatorNamespace && s.Name == operatorDeployment {
						// The one cluster-wide grant of a namespaced installation: TokenReviews and
						// SubjectAccessReviews for its authenticated metrics endpoint.
						Expect(b.RoleRef.Name).To(Equal("littleecom-metrics-auth-role"), "ClusterRoleBinding %s", b.Name)
					}
				}
			}
		})

		It("leaves a LittleEcom in a namespace it does not watch alone", func(ctx SpecContext) {
			shop, err := getShop(ctx)
			Expect(err).NotTo(HaveOccurred())
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "e2e-unwatched-" + run}}
			Expect(k8s.Create(ctx, ns)).To(Succeed())
			DeferCleanup(func(ctx context.Context) { _ = client.IgnoreNotFound(k8s.Delete(ctx, ns)) })
			stray := &shopv1.LittleEcom{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "stray"},
				Spec:       *shop.Spec.DeepCopy(),
			}
			Expect(k8s.Create(ctx, stray)).To(Succeed(), "the API server accepts it; only the operator ignores it")

			// A watched shop gets its finalizer and first status within a second or two of its
			// creation; a stray one must still have neither, nor any workload, well after that.
			Consistently(func(g Gomega) {
				got := &shopv1.LittleEcom{}
				g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(stray), got)).To(Succeed())
				g.Expect(got.Finalizers).To(BeEmpty(), "finalizers")
				g.Expect(got.Status.Conditions).To(BeEmpty(), "status conditions")
				var sts appsv1.StatefulSetList
				g.Expect(k8s.List(ctx, &sts, client.InNamespace(ns.Name))).To(Succeed())
				g.Expect(sts.Items).To(BeEmpty(), "StatefulSets in %s", ns.Name)
				var deps appsv1.DeploymentList
				g.Expect(k8s.List(ctx, &deps, client.InNamespace(ns.Name))).To(Succeed())
				g.Expect(deps.Items).To(BeEmpty(), "Deployments in %s", ns.Name)
			}).WithContext(ctx).WithTimeout(20 * time.Second).WithPolling(time.Second).Should(Succeed())
		})
	})
}
