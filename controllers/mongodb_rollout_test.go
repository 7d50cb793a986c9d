package controllers

import (
	"fmt"
	"maps"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/mongors/mongorstest"
	"littleecom.io/littleecom/internal/resource"
)

// A changed MongoDB image (or any template change) reaches the members only through the
// operator: the StatefulSet updates OnDelete, and the operator deletes one member's pod at
// a time, secondaries first, the primary after it stepped down, then raises the feature
// compatibility version. envtest has no StatefulSet controller and no kubelet: the spec
// plays them (it creates the pods from the template with the revision label, marks them
// ready, and tells the wire double which release each member runs after its restart).
var _ = Describe("MongoDB rollout of a new image", func() {
	const name = "roll"
	var (
		ns string
		rs *mongorstest.Cluster
	)
	// slow covers the double's realistic first election (~11 s) and handovers.
	const slow = 60 * time.Second

	podName := func(i int) string { return fmt.Sprintf("%s-mongodb-%d", name, i) }
	sts := func() *appsv1.StatefulSet {
		s := &appsv1.StatefulSet{}
		Expect(k8sClient.Get(ctx, key(ns, name+"-mongodb"), s)).To(Succeed())
		return s
	}
	// setStatus plays the StatefulSet controller's status for revision rev.
	setStatus := func(rev string) {
		Eventually(func() error {
			s := sts()
			n := *s.Spec.Replicas
			s.Status = appsv1.StatefulSetStatus{ObservedGeneration: s.Generation, Replicas: n, ReadyReplicas: n,
				AvailableReplicas: n, CurrentReplicas: n, UpdatedReplicas: n, CurrentRevision: "rev1", UpdateRevision: rev}
			return k8sClient.Status().Update(ctx, s)
		}, timeout, interval).Should(Succeed())
	}
	// startPod plays the StatefulSet controller and kubelet: pod i from the template, ready.
	startPod := func(i int, rev string) {
		s := sts()
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: podName(i), Namespace: ns, Labels: map[string]string{
			appsv1.ControllerRevisionHashLabelKey: rev}}, Spec: *s.Spec.Template.Spec.DeepCopy()}
		maps.Copy(p.Labels, s.Spec.Template.Labels)
		for _, claim := range s.Spec.VolumeClaimTemplates {
			// The StatefulSet controller adds each claim as a volume; an emptyDir stands in.
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: claim.Name,
				VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		}
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		Expect(k8sClient.Status().Update(ctx, p)).To(Succeed())
	}
	podGone := func(i int) func() bool {
		return func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, podName(i)), &corev1.Pod{}))
		}
	}
	podsLeft := func() int {
		n := 0
		for i := range 3 {
			if !podGone(i)() {
				n++
			}
		}
		return n
	}
	mongoStatus := func() shopv1.ComponentImage {
		le := &shopv1.LittleEcom{}
		Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
		for _, img := range le.Status.Images {
			if img.Component == resource.ComponentMongoDB {
				return img
			}
		}
		return shopv1.ComponentImage{}
	}

	BeforeEach(func() {
		ns = newNamespace()
		rs = createShopWithDouble(ns, name)
		Expect(sts().Spec.UpdateStrategy.Type).To(Equal(appsv1.OnDeleteStatefulSetStrategyType))
		for i := range 3 {
			startPod(i, "rev1")
		}
		setStatus("rev1")
		Eventually(func(g Gomega) {
			le := &shopv1.LittleEcom{}
			g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			g.Expect(condition(le, shopv1.ConditionReplicaSetInitialized).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(le.Status.MongoDB.Members).To(HaveLen(3))
			for _, m := range le.Status.MongoDB.Members {
				g.Expect(m.State).To(BeElementOf("PRIMARY", "SECONDARY"))
			}
		}, slow, interval).Should(Succeed())
	})

	It("restarts secondaries one at a time, steps the primary down last, then raises the FCV", func() {
		Consistently(podsLeft, 2*time.Second, interval).Should(Equal(3), "no restart while every pod runs the current template")
		primary := rs.Primary()
		Expect(primary).NotTo(BeEmpty())
		primaryPod := podOfMember(primary)

		By("changing the image: the StatefulSet gets a new template and revision")
		updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Spec.MongoDB.Image = "mongo:8.0" })
		Eventually(func() string { return sts().Spec.Template.Spec.Containers[0].Image }, timeout, interval).Should(Equal("mongo:8.0"))
		setStatus("rev2")
		Eventually(func() bool { return mongoStatus().Updating }, timeout, interval).Should(BeTrue(),
			"status.images says the members are being updated")

		var order []string
		for range 3 {
			// Exactly one member's pod goes at a time.
			var gone int
			Eventually(func() int {
				for i := range 3 {
					if podGone(i)() {
						gone = i
						return podsLeft()
					}
				}
				return 3
			}, slow, interval).Should(Equal(2))
			Consistently(podsLeft, time.Second, interval).Should(Equal(2), "a second member restarted while one was down")
			order = append(order, podName(gone))
			if podName(gone) == primaryPod {
				Expect(rs.Commands("replSetStepDown")).NotTo(BeEmpty(), "the primary restarted without stepping down")
				Expect(rs.Primary()).NotTo(Equal(primary), "the primary restarted while still primary")
			} else {
				Expect(rs.Commands("replSetStepDown")).To(BeEmpty(), "stepped down before the secondaries were done")
			}
			host := topoHost(ns, name, gone)
			rs.SetVersion(host, "8.0.4") // the member came back on the new image
			startPod(gone, "rev2")
		}
		Expect(order[2]).To(Equal(primaryPod), "the primary goes last: %v", order)
		Expect(order[:2]).NotTo(ContainElement(primaryPod))

		By("raising the feature compatibility version once every member runs 8.0")
		Eventually(rs.FeatureCompatibilityVersion, slow, interval).Should(Equal("8.0"))
		Eventually(func(g Gomega) {
			img := mongoStatus()
			g.Expect(img.Image).To(Equal("mongo:8.0"))
			g.Expect(img.Updating).To(BeFalse())
			g.Expect(img.Message).To(ContainSubstring("8.0"))
		}, timeout, interval).Should(Succeed())
		Expect(rs.Commands("setFeatureCompatibilityVersion")).To(HaveLen(1), "the FCV is set once")
		for _, c := range rs.Commands("replSetStepDown") {
			Expect(c.Host).To(Equal(primary))
		}
	})
})
