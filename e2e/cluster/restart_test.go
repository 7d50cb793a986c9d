package cluster

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Timing of the restart check.
const (
	// quietPeriod is how long nothing may change before the "before" picture is taken:
	// status updates after the earlier specs' pod deletions must be over.
	quietPeriod = 15 * time.Second
	// settlePeriod is how long the new operator works on the shop after its first successful
	// reconcile before the "after" picture: the requeues and the events of its informers'
	// first lists (one per child) come within it.
	settlePeriod = 20 * time.Second
)

// Reconciling an unchanged shop writes nothing (README, "What the operator creates"). A
// restarted operator reconciles every shop and sees every child once from its informers'
// first lists; none of that may write to the shop or its children.
func describeOperatorRestart() {
	Context("an operator that restarts", func() {
		It("writes nothing to an unchanged shop and its children", func(ctx SpecContext) {
			metrics, err := newOperatorMetrics(ctx)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(metrics.close)
			expectShopWorkloadsRolledOut(ctx)
			expectDeploymentRolledOut(ctx, env.operatorNamespace, operatorDeployment, rolloutWait)
			expectShopReady(ctx, rolloutWait)

			By("waiting until nothing has changed for " + quietPeriod.String())
			before := quietSnapshot(ctx, quietPeriod)
			GinkgoWriter.Printf("recorded %d objects\n", len(before))

			deleteAndExpectReplaced(ctx, env.operatorNamespace, operatorDeployment)
			pod := readyPodOf(ctx, env.operatorNamespace, operatorDeployment)

			By("waiting for the new operator's first successful reconcile (its metrics)")
			var counts map[string]float64
			Eventually(func(g Gomega) {
				counts, err = metrics.reconciles(ctx, &pod)
				g.Expect(err).NotTo(HaveOccurred())
				// A reconcile that ends in a requeue (the operator checks an external database
				// again after a while) succeeded too; only "error" did not.
				done := counts["success"] + counts["requeue"] + counts["requeue_after"]
				g.Expect(done).To(BeNumerically(">=", 1), "reconciles of pod %s: %v", pod.Name, counts)
			}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())
			sleep(ctx, settlePeriod)

			after, err := takeSnapshot(ctx)
			Expect(err).NotTo(HaveOccurred())
			counts, err = metrics.reconciles(ctx, &pod)
			Expect(err).NotTo(HaveOccurred())
			GinkgoWriter.Printf("the new operator reconciled the shop: %v\n", counts)
			Expect(writesSince(before, after)).To(BeEmpty(), "writes after the operator's restart")
		}, SpecTimeout(3*rolloutWait+5*time.Minute))
	})
}

// quietSnapshot waits until the shop and its children have not changed for quiet and
// returns their picture.
func quietSnapshot(ctx context.Context, quiet time.Duration) snapshot {
	GinkgoHelper()
	var last snapshot
	var since time.Time
	Eventually(func(g Gomega) {
		s, err := takeSnapshot(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		if last == nil || len(writesSince(last, s)) > 0 {
			last, since = s, time.Now()
		}
		g.Expect(time.Since(since)).To(BeNumerically(">=", quiet), "time without a change")
	}).WithContext(ctx).WithTimeout(rolloutWait).WithPolling(time.Second).Should(Succeed())
	return last
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
