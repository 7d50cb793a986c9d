package controllers

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
)

var _ = Describe("The paused annotation", func() {
	It("stops the operator from touching the shop until it is removed", func() {
		ns, name := newNamespace(), "paused"
		Expect(k8sClient.Create(ctx, newShop(ns, name))).To(Succeed())
		backend := &appsv1.Deployment{}
		eventually(ns, name+"-backend", backend)

		By("pausing: the Paused condition, and a deleted child stays deleted")
		updateShop(ns, name, func(le *shopv1.LittleEcom) {
			if le.Annotations == nil {
				le.Annotations = map[string]string{}
			}
			le.Annotations[shopv1.PausedAnnotation] = "true"
		})
		Eventually(func(g Gomega) {
			le := &shopv1.LittleEcom{}
			g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			c := condition(le, shopv1.ConditionPaused)
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(c.Reason).To(Equal(shopv1.ReasonPausedByAnnotation))
		}, timeout, interval).Should(Succeed())
		Expect(k8sClient.Delete(ctx, backend)).To(Succeed())
		Consistently(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, name+"-backend"), &appsv1.Deployment{}))
		}, 3*time.Second, interval).Should(BeTrue(), "a paused shop's deleted Deployment was put back")

		By("resuming: the child comes back and the condition goes")
		updateShop(ns, name, func(le *shopv1.LittleEcom) { delete(le.Annotations, shopv1.PausedAnnotation) })
		eventually(ns, name+"-backend", &appsv1.Deployment{})
		Eventually(func(g Gomega) {
			le := &shopv1.LittleEcom{}
			g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			g.Expect(condition(le, shopv1.ConditionPaused).Status).To(BeEmpty())
		}, timeout, interval).Should(Succeed())
	})
})
