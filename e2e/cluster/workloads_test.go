package cluster

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// getShop reads the LittleEcom under test.
func getShop(ctx context.Context) (*shopv1.LittleEcom, error) {
	le := &shopv1.LittleEcom{}
	err := k8s.Get(ctx, client.ObjectKey{Namespace: env.namespace, Name: env.shop}, le)
	return le, err
}

// expectShopReady waits until the LittleEcom is Ready for its current generation.
func expectShopReady(ctx context.Context, timeout time.Duration) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		le, err := getShop(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		ready := meta.FindStatusCondition(le.Status.Conditions, shopv1.ConditionReady)
		g.Expect(le.Status.Phase).To(Equal(shopv1.PhaseReady), "phase; conditions: %s", conditionSummary(le))
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(le.Status.ObservedGeneration).To(Equal(le.Generation), "status.observedGeneration")
	}).WithContext(ctx).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func conditionSummary(le *shopv1.LittleEcom) string {
	s := ""
	for _, c := range le.Status.Conditions {
		s += fmt.Sprintf("%s=%s (%s: %s); ", c.Type, c.Status, c.Reason, c.Message)
	}
	return s
}

// deploymentRolledOut fails g unless every replica of d runs its current template and is
// available, with no pod of an older ReplicaSet left.
func deploymentRolledOut(g Gomega, d *appsv1.Deployment) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	g.Expect(s.ObservedGeneration).To(BeNumerically(">=", d.Generation), "Deployment %s: observedGeneration", d.Name)
	g.Expect([]int32{s.Replicas, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas}).
		To(HaveEach(want), "Deployment %s: replicas, updated, ready, available", d.Name)
}

// statefulSetRolledOut is deploymentRolledOut for a StatefulSet.
func statefulSetRolledOut(g Gomega, s *appsv1.StatefulSet) {
	want := int32(1)
	if s.Spec.Replicas != nil {
		want = *s.Spec.Replicas
	}
	st := s.Status
	g.Expect(st.ObservedGeneration).To(BeNumerically(">=", s.Generation), "StatefulSet %s: observedGeneration", s.Name)
	g.Expect([]int32{st.Replicas, st.UpdatedReplicas, st.ReadyReplicas}).
		To(HaveEach(want), "StatefulSet %s: replicas, updated, ready", s.Name)
	g.Expect(st.CurrentRevision).To(Equal(st.UpdateRevision), "StatefulSet %s: revision", s.Name)
}

// expectDeploymentRolledOut waits for one Deployment's rollout to finish.
func expectDeploymentRolledOut(ctx context.Context, namespace, name string, timeout time.Duration) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		d := &appsv1.Deployment{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, d)).To(Succeed())
		deploymentRolledOut(g, d)
	}).WithContext(ctx).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

// expectShopWorkloadsRolledOut waits until every Deployment and StatefulSet of the shop has
// finished rolling out (within rolloutWait).
func expectShopWorkloadsRolledOut(ctx context.Context) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		sel := client.MatchingLabels{resource.LabelInstance: env.shop}
		var deps appsv1.DeploymentList
		g.Expect(k8s.List(ctx, &deps, client.InNamespace(env.namespace), sel)).To(Succeed())
		g.Expect(deps.Items).NotTo(BeEmpty(), "the shop's Deployments")
		for i := range deps.Items {
			deploymentRolledOut(g, &deps.Items[i])
		}
		var sets appsv1.StatefulSetList
		g.Expect(k8s.List(ctx, &sets, client.InNamespace(env.namespace), sel)).To(Succeed())
		for i := range sets.Items {
			statefulSetRolledOut(g, &sets.Items[i])
		}
	}).WithContext(ctx).WithTimeout(rolloutWait).WithPolling(poll).Should(Succeed())
}

// podsOf lists the pods a Deployment's selector matches.
func podsOf(ctx context.Context, namespace, deployment string) ([]corev1.Pod, error) {
	d := &appsv1.Deployment{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: deployment}, d); err != nil {
		return nil, err
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, err
	}
	var pods corev1.PodList
	if err := k8s.List(ctx, &pods, client.InNamespace(namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, err
	}
	return pods.Items, nil
}

// readyPodOf returns one Ready, not terminating pod of a Deployment.
func readyPodOf(ctx context.Context, namespace, deployment string) corev1.Pod {
	GinkgoHelper()
	var found corev1.Pod
	Eventually(func(g Gomega) {
		pods, err := podsOf(ctx, namespace, deployment)
		g.Expect(err).NotTo(HaveOccurred())
		found = corev1.Pod{}
		for _, p := range pods {
			if p.DeletionTimestamp == nil && podReady(&p) {
				found = p
				break
			}
		}
		g.Expect(found.Name).NotTo(BeEmpty(), "no Ready pod of %s/%s among %d", namespace, deployment, len(pods))
	}).WithContext(ctx).WithTimeout(shortWait).WithPolling(poll).Should(Succeed())
	return found
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// expectPodReplaced waits until the Deployment is rolled out again with none of the pods in
// gone among its pods: the pods were deleted and replacements are Ready.
func expectPodReplaced(ctx context.Context, namespace, deployment string, gone *corev1.Pod, timeout time.Duration) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		d := &appsv1.Deployment{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: deployment}, d)).To(Succeed())
		deploymentRolledOut(g, d)
		pods, err := podsOf(ctx, namespace, deployment)
		g.Expect(err).NotTo(HaveOccurred())
		for _, p := range pods {
			g.Expect(p.UID).NotTo(Equal(gone.UID), "pod %s is still there", gone.Name)
		}
	}).WithContext(ctx).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}
