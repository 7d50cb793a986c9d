package controllers

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/mongors"
	"littleecom.io/littleecom/internal/mongors/mongorstest"
)

// These specs run the reconciler against the replica-set double through scale-downs,
// scale-ups, root password changes and refusals; each names the mongod behaviour the double
// imitates there. Pods never run in envtest: the specs play the StatefulSet controller
// (markStatefulSetReady) and the pods (Stop and Restart of the double's members).
var _ = Describe("MongoDB replica set over its life", func() {
	var (
		ns string
		rs *mongorstest.Cluster
	)
	const name = "life"
	host := func(i int) string { return topoHost(ns, name, i) }

	shopNow := func() *shopv1.LittleEcom {
		le := &shopv1.LittleEcom{}
		Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
		return le
	}
	// readyWith waits until ReplicaSetInitialized is True with exactly n members,
	// playing the StatefulSet controller meanwhile: every resize or rollout the reconciler
	// makes is reported ready, as kubelet would once the pods run.
	readyWith := func(n int) *shopv1.LittleEcom {
		var le *shopv1.LittleEcom
		Eventually(func(g Gomega) {
			reportStatefulSetReady(g, ns, name+"-mongodb")
			le = shopNow()
			c := condition(le, shopv1.ConditionReplicaSetInitialized)
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
			g.Expect(le.Status.MongoDB.Members).To(HaveLen(n))
			g.Expect(configMembers(rs)).To(Equal(n))
		}, timeout, interval).Should(Succeed())
		return le
	}
	stsReplicas := func() int32 {
		sts := &appsv1.StatefulSet{}
		Expect(k8sClient.Get(ctx, key(ns, name+"-mongodb"), sts)).To(Succeed())
		return *sts.Spec.Replicas
	}
	scaleTo := func(n int32) {
		updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Spec.MongoDB.Replicas = new(n) })
	}

	BeforeEach(func() {
		ns = newNamespace()
		rs = createShopWithDouble(ns, name)
		markStatefulSetReady(ns, name+"-mongodb")
		readyWith(3)
	})

	It("three members, primary on the highest ordinal, scale to one, ends Ready", func() {
		// mongod refuses a reconfig that leaves the node running it unelectable
		// (NodeNotElectable, 104): the demotion of members 1 and 2 cannot run on member 2.
		rs.SetPrimary(host(2))
		rs.ResetCommands()
		scaleTo(1)

		readyWith(1)
		// The StatefulSet shrinks in the reconcile after the one that saw the member leave.
		Eventually(stsReplicas, timeout, interval).Should(BeEquivalentTo(1))
		// Under the full suite's load one status showed the single member with the old
		// primary still named (host 2, stepped down and removed); the next one was right.
		// What is asserted is where the set ends.
		Eventually(func() string { return shopNow().Status.MongoDB.Primary }, timeout, interval).Should(Equal(host(0)))
		stepDowns := 0
		for _, c := range rs.Commands("replSetStepDown", "replSetReconfig") {
			if c.Name == "replSetStepDown" {
				Expect(c.Host).To(Equal(host(2)), "only the primary being removed steps down")
				stepDowns++
				continue
			}
			Expect(c.Host).NotTo(Equal(host(2)), "no reconfig runs on the member being removed")
		}
		Expect(stepDowns).To(BeNumerically(">=", 1))
	})

	It("scales down, then up again with pods that come back with their old data", func() {
		scaleTo(1)
		Eventually(stsReplicas, timeout, interval).Should(BeEquivalentTo(1))
		By("the StatefulSet controller deleting pods 1 and 2; their volumes stay")
		rs.Stop(host(1))
		rs.Stop(host(2))
		readyWith(1)

		scaleTo(3)
		Eventually(stsReplicas, timeout, interval).Should(BeEquivalentTo(3))
		By("the pods returning on their old volumes, with a config that no longer has them")
		rs.Restart(host(1))
		rs.Restart(host(2))
		// mongod imitated: a node whose config does not contain it answers
		// replSetGetStatus with InvalidReplicaSetConfig (93) and is REMOVED.
		Eventually(func() bool { return removedMember(host(1)) }, timeout, interval).Should(BeTrue())

		le := readyWith(3)
		Expect(rs.Commands("replSetInitiate")).To(HaveLen(1), "the set is never initiated again")
		for _, m := range le.Status.MongoDB.Members {
			Expect(m.State).To(BeElementOf(mongors.StatePrimary, mongors.StateSecondary))
		}
	})

	It("changes the root password in MongoDB when the Secret changes", func() {
		// mongod's entrypoint creates root once: only the operator can carry a new
		// password into the database, logged in with the one that still works.
		root := &corev1Secret{}
		Expect(k8sClient.Get(ctx, key(ns, name+"-mongodb-root"), root)).To(Succeed())
		user, old := string(root.Data["username"]), string(root.Data["password"])
		Expect(rs.UserPassword("admin", user, old)).To(BeTrue())
		const rotated = "rotated-Pa55,word=" // SCRAM escapes ',' and '='
		root.Data["password"] = []byte(rotated)
		Expect(k8sClient.Update(ctx, root)).To(Succeed())

		Eventually(func(g Gomega) {
			reportStatefulSetReady(g, ns, name+"-mongodb") // the Secret's hash rolls the pods
			g.Expect(rs.UserPassword("admin", user, rotated)).To(BeTrue())
		}, timeout, interval).Should(Succeed())
		Expect(rs.UserPassword("admin", user, old)).To(BeFalse())
		readyWith(3)
		applied := &corev1Secret{}
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key(ns, name+"-mongodb-root-applied"), applied)).To(Succeed())
			g.Expect(string(applied.Data["password"])).To(Equal(rotated))
		}, timeout, interval).Should(Succeed())
		Expect(ownedBy(applied, shopNow())).To(BeTrue())

		By("logging in with the new password after an operator restart, without another change")
		reconciler.memory.clear()
		rs.ResetCommands()
		updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Annotations = map[string]string{"poke": "1"} })
		Eventually(func() int { return len(rs.Commands("createUser", "updateUser")) }, timeout, interval).Should(BeNumerically(">=", 3))
		for _, c := range rs.Commands("updateUser") {
			Expect(c.Doc.Lookup("updateUser").StringValue()).NotTo(Equal(user), "root is not changed again")
		}
	})
})

var _ = Describe("MongoDB replica set refusals", func() {
	It("shows a refusal that waiting does not fix in status, and does not retry it", func() {
		ns := newNamespace()
		const name = "refused"
		Expect(k8sClient.Create(ctx, newShop(ns, name))).To(Succeed())
		eventually(ns, name+"-mongodb-root", &corev1Secret{})
		// The pods run mongod with another --replSet than the shop asks for (e.g. the
		// StatefulSet has not rolled yet): mongod refuses replSetInitiate with
		// InvalidReplicaSetConfig (93), as it will every time.
		rs, err := doubles.clusterWith(ctx, ns, name, func(o *mongorstest.Options) { o.SetName = "other" })
		Expect(err).NotTo(HaveOccurred())
		markStatefulSetReady(ns, name+"-mongodb")

		le := &shopv1.LittleEcom{}
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			c := condition(le, shopv1.ConditionReplicaSetInitialized)
			g.Expect(c.Reason).To(Equal(shopv1.ReasonRejected))
			g.Expect(c.Message).To(And(ContainSubstring("InvalidReplicaSetConfig"), ContainSubstring("command line reports other")))
		}, timeout, interval).Should(Succeed())
		Expect(le.Status.MongoDB.State).To(Equal(shopv1.ReasonRejected))
		Expect(rs.Commands("replSetInitiate")).To(HaveLen(1))

		By("not sending the refused request again while nothing changed")
		updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Annotations = map[string]string{"poke": "1"} })
		Consistently(func() int { return len(rs.Commands("replSetInitiate")) }, 2*time.Second, interval).Should(Equal(1))
		Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
		Expect(condition(le, shopv1.ConditionReplicaSetInitialized).Reason).To(Equal(shopv1.ReasonRejected))
	})
})

// reportStatefulSetReady is markStatefulSetReady for use inside Eventually: one attempt,
// failures reported to g.
func reportStatefulSetReady(g Gomega, ns, name string) {
	sts := &appsv1.StatefulSet{}
	g.Expect(k8sClient.Get(ctx, key(ns, name), sts)).To(Succeed())
	n := *sts.Spec.Replicas
	if sts.Status.ObservedGeneration == sts.Generation && sts.Status.ReadyReplicas == n {
		return
	}
	sts.Status = appsv1.StatefulSetStatus{
		ObservedGeneration: sts.Generation, Replicas: n, ReadyReplicas: n, CurrentReplicas: n,
		UpdatedReplicas: n, AvailableReplicas: n,
	}
	g.Expect(k8sClient.Status().Update(ctx, sts)).To(Succeed())
}

// removedMember asks a member, as the operator would, whether it is in its own config.
func removedMember(host string) bool {
	root := mongors.Target{Host: host, DirectConnection: true, Timeout: 2 * time.Second}
	le := &shopv1.LittleEcom{}
	m := memberHost.FindStringSubmatch(host)
	if m == nil || k8sClient.Get(ctx, key(m[2], m[1]), le) != nil {
		return false
	}
	secret := &corev1Secret{}
	if k8sClient.Get(ctx, key(m[2], m[1]+"-mongodb-root"), secret) != nil {
		return false
	}
	root.Username, root.Password = string(secret.Data["username"]), string(secret.Data["password"])
	c, err := doubles.Dial(ctx, root)
	if err != nil {
		return false
	}
	defer func() { _ = c.Close(context.Background()) }()
	st, err := c.Status(ctx)
	return err == nil && st.Removed
}
