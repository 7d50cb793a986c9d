package cluster

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// Deleting a LittleEcom removes every child through the garbage collector (owner
// references), and its volumes as spec.rabbitmq.storage.retentionPolicy says: Retain keeps
// the PersistentVolumeClaims (the data survives), Delete removes them. The spec then puts
// the shop back as it was, so the node is left as the suite found it.
func describeDeletion() {
	Context("deleting the LittleEcom", func() {
		It("removes its children, and its volumes as the retention policy says", func(ctx SpecContext) {
			le, err := getShop(ctx)
			Expect(err).NotTo(HaveOccurred())
			children, err := shopChildren(ctx, le.UID)
			Expect(err).NotTo(HaveOccurred())
			Expect(children).NotTo(BeEmpty())
			claims := volumeClaims(children)
			Expect(claims).NotTo(BeEmpty(), "the shop's StatefulSets claim volumes")
			for _, name := range claims {
				Expect(k8s.Get(ctx, client.ObjectKey{Namespace: env.namespace, Name: name}, &corev1.PersistentVolumeClaim{})).
					To(Succeed(), "PVC %s exists before the deletion", name)
			}
			policy := le.Spec.RabbitMQ.Storage.RetentionPolicy
			if policy == "" {
				policy = shopv1.RetentionRetain // the API default
			}
			GinkgoWriter.Printf("%d children, PVCs %v, retention policy %s\n", len(children), claims, policy)
			DeferCleanup(restoreShop, le.DeepCopy(), NodeTimeout(recreateWait+time.Minute))

			By("deleting LittleEcom " + le.Name)
			Expect(k8s.Delete(ctx, le)).To(Succeed())
			Eventually(func() error {
				_, err := getShop(ctx)
				return err
			}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(poll).Should(Satisfy(apierrors.IsNotFound))

			By("waiting for the garbage collector to remove the children and their pods")
			Eventually(func(g Gomega) {
				left, err := shopChildren(ctx, le.UID)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(slices.Sorted(maps.Keys(left))).To(BeEmpty(), "children left")
				var pods corev1.PodList
				g.Expect(k8s.List(ctx, &pods, client.InNamespace(env.namespace),
					client.MatchingLabels{resource.LabelInstance: env.shop, resource.LabelManagedBy: resource.ManagedBy})).To(Succeed())
				g.Expect(pods.Items).To(BeEmpty(), "pods left")
			}).WithContext(ctx).WithTimeout(rolloutWait).WithPolling(time.Second).Should(Succeed())

			switch policy {
			case shopv1.RetentionRetain:
				By("checking that the PVCs stay (Retain), then deleting them")
				Consistently(func(g Gomega) {
					for _, name := range claims {
						g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: env.namespace, Name: name}, &corev1.PersistentVolumeClaim{})).
							To(Succeed(), "PVC %s", name)
					}
				}).WithContext(ctx).WithTimeout(10 * time.Second).WithPolling(time.Second).Should(Succeed())
				for _, name := range claims {
					pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: env.namespace, Name: name}}
					Expect(client.IgnoreNotFound(k8s.Delete(ctx, pvc))).To(Succeed())
				}
				expectClaimsGone(ctx, claims)
			case shopv1.RetentionDelete:
				By("waiting for the PVCs to go (Delete)")
				expectClaimsGone(ctx, claims)
			default:
				Fail(fmt.Sprintf("unknown retention policy %q", policy))
			}
		}, SpecTimeout(2*rolloutWait+2*time.Minute))
	})
}

// volumeClaims names the PVCs the shop's StatefulSets made: <template>-<statefulset>-<ordinal>.
func volumeClaims(children map[string]client.Object) []string {
	var out []string
	for _, obj := range children {
		sts, ok := obj.(*appsv1.StatefulSet)
		if !ok {
			continue
		}
		replicas := int32(1)
		if sts.Spec.Replicas != nil {
			replicas = *sts.Spec.Replicas
		}
		for _, t := range sts.Spec.VolumeClaimTemplates {
			for i := range replicas {
				out = append(out, fmt.Sprintf("%s-%s-%d", t.Name, sts.Name, i))
			}
		}
	}
	return out
}

func expectClaimsGone(ctx context.Context, claims []string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		for _, name := range claims {
			err := k8s.Get(ctx, client.ObjectKey{Namespace: env.namespace, Name: name}, &corev1.PersistentVolumeClaim{})
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "PVC %s is still there (%v)", name, err)
		}
	}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())
}

// restoreShop creates the LittleEcom again as it was (name, labels, annotations, spec) once
// the deleted one is gone, and waits until it is Ready and answers.
func restoreShop(ctx SpecContext, was *shopv1.LittleEcom) {
	if cur, err := getShop(ctx); err == nil && cur.UID == was.UID && cur.DeletionTimestamp == nil {
		return // the spec failed before it deleted the shop
	}
	Eventually(func() error {
		_, err := getShop(ctx)
		return err
	}).WithContext(ctx).WithTimeout(2*time.Minute).WithPolling(poll).Should(Satisfy(apierrors.IsNotFound),
		"the deleted LittleEcom must be gone before it is created again")
	le := &shopv1.LittleEcom{
		ObjectMeta: metav1.ObjectMeta{Name: was.Name, Namespace: was.Namespace, Labels: was.Labels, Annotations: was.Annotations},
		Spec:       was.Spec,
	}
	By("creating LittleEcom " + le.Name + " again")
	Expect(k8s.Create(ctx, le)).To(Succeed())
	start := time.Now()
	expectShopReady(ctx, recreateWait)
	Eventually(func(g Gomega) {
		g.Expect(api.get(ctx, "/items").status).To(Equal(http.StatusOK))
	}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(poll).Should(Succeed())
	GinkgoWriter.Printf("the shop is back in %s\n", time.Since(start).Round(time.Second))
}
