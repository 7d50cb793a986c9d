package namespacedtest

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/config"

	shopv1 "littleecom.io/littleecom/api/v1"
)

func ctrlConfigSyncTimeout(d time.Duration) config.Controller {
	return config.Controller{CacheSyncTimeout: d}
}

var _ = Describe("config/namespaced", func() {
	It("renders Roles and RoleBindings, no ClusterRole or ClusterRoleBinding", func() {
		kinds := map[string][]string{}
		for _, obj := range rendered {
			kinds[obj.GetKind()] = append(kinds[obj.GetKind()], obj.GetNamespace()+"/"+obj.GetName())
		}
		Expect(kinds).NotTo(HaveKey("ClusterRole"))
		Expect(kinds).NotTo(HaveKey("ClusterRoleBinding"))
		Expect(kinds["Role"]).To(ContainElements(watched+"/littleecom-manager-role", "littleecom-system/littleecom-leader-election-role"))
		Expect(kinds["RoleBinding"]).To(ContainElement(watched + "/littleecom-manager-rolebinding"))
		var args []any
		for _, obj := range rendered {
			if obj.GetKind() == "Deployment" {
				containers, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
				args = containers[0].(map[string]any)["args"].([]any)
			}
		}
		Expect(args).To(ContainElement("--watch-namespaces=" + watched))
	})
})

var _ = Describe("A namespace-scoped operator", func() {
	It("provisions a shop in its namespace with the overlay's Roles alone", func() {
		Expect(k8sClient.Create(ctx, &shopv1.LittleEcom{ObjectMeta: metav1.ObjectMeta{Name: "inside", Namespace: watched}})).To(Succeed())
		Eventually(func() error {
			return k8sClient.Get(ctx, key(watched, "inside-mongodb"), &appsv1.StatefulSet{})
		}, timeout, interval).Should(Succeed())
		Eventually(func(g Gomega) {
			le := &shopv1.LittleEcom{}
			g.Expect(k8sClient.Get(ctx, key(watched, "inside"), le)).To(Succeed())
			g.Expect(le.Status.Phase).NotTo(BeEmpty())
			g.Expect(le.Status.Images).NotTo(BeEmpty())
		}, timeout, interval).Should(Succeed())
	})

	It("ignores a LittleEcom in a namespace it does not watch", func() {
		Expect(k8sClient.Create(ctx, &shopv1.LittleEcom{ObjectMeta: metav1.ObjectMeta{Name: "outside", Namespace: "elsewhere"}})).To(Succeed())
		// The shop inside is reconciled within a second or two (spec above); give the one
		// outside several times that, then look: no child, no status.
		Consistently(func(g Gomega) {
			err := k8sClient.Get(ctx, key("elsewhere", "outside-mongodb"), &appsv1.StatefulSet{})
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "a StatefulSet appeared outside the watched namespace: %v", err)
			le := &shopv1.LittleEcom{}
			g.Expect(k8sClient.Get(ctx, key("elsewhere", "outside"), le)).To(Succeed())
			g.Expect(le.Status.Phase).To(BeEmpty())
		}, 5*time.Second, 250*time.Millisecond).Should(Succeed())
	})
})
