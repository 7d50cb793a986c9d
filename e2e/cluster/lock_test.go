package cluster

import (
	"context"
	"fmt"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Two runs of the suite against one shop spoil each other: both roll auth, restart the
// operator and delete the shop. A run holds a Lease in the shop's namespace while it runs; a
// second run waits for it, and a Lease older than any run may take is taken over.
const (
	lockName = "littleecom-e2e"
	// lockDuration outlasts the longest run (go test -timeout 30m).
	lockDuration = 45 * time.Minute
	// lockWait is how long a run waits for another to finish.
	lockWait = 15 * time.Minute
)

// acquireSuiteLock waits until this run holds the suite's Lease and registers its release.
func acquireSuiteLock(ctx context.Context) {
	GinkgoHelper()
	host, _ := os.Hostname()
	holder := fmt.Sprintf("%s/pid %d/run %s", host, os.Getpid(), run)
	key := client.ObjectKey{Namespace: env.namespace, Name: lockName}
	Eventually(func(g Gomega) {
		now := metav1.NewMicroTime(time.Now())
		lease := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: lockName, Namespace: env.namespace},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       &holder,
				LeaseDurationSeconds: new(int32(lockDuration / time.Second)),
				AcquireTime:          &now,
				RenewTime:            &now,
			},
		}
		err := k8s.Create(ctx, lease)
		if err == nil {
			return
		}
		if !apierrors.IsAlreadyExists(err) {
			StopTrying("creating Lease " + key.String()).Wrap(err).Now()
		}
		held := &coordinationv1.Lease{}
		g.Expect(k8s.Get(ctx, key, held)).To(Succeed())
		if stale(held) {
			GinkgoWriter.Printf("taking over the stale Lease %s of %s\n", key, ptrString(held.Spec.HolderIdentity))
			g.Expect(client.IgnoreNotFound(k8s.Delete(ctx, held, client.Preconditions{UID: &held.UID}))).To(Succeed())
		}
		g.Expect(held.Spec.HolderIdentity).To(BeNil(), "another run of the suite holds Lease %s: %s since %v",
			key, ptrString(held.Spec.HolderIdentity), held.Spec.AcquireTime)
	}).WithContext(ctx).WithTimeout(lockWait).WithPolling(5 * time.Second).Should(Succeed())
	DeferCleanup(func(ctx SpecContext) {
		lease := &coordinationv1.Lease{}
		if err := k8s.Get(ctx, key, lease); err == nil && ptrString(lease.Spec.HolderIdentity) == holder {
			Expect(client.IgnoreNotFound(k8s.Delete(ctx, lease, client.Preconditions{UID: &lease.UID}))).To(Succeed())
		}
	})
}

// stale says whether a Lease's holder has run out of time (it died without releasing it).
func stale(l *coordinationv1.Lease) bool {
	if l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return true
	}
	return time.Since(l.Spec.RenewTime.Time) > time.Duration(*l.Spec.LeaseDurationSeconds)*time.Second
}

func ptrString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
