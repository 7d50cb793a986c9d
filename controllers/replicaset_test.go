package controllers

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/mongors/mongorstest"
)

var _ = Describe("MongoDB replica set", func() {
	var (
		ns string
		rs *mongorstest.Cluster
	)
	const name = "rs"

	readyShop := func() *shopv1.LittleEcom {
		le := &shopv1.LittleEcom{}
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			c := condition(le, shopv1.ConditionReplicaSetInitialized)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
		}, timeout, interval).Should(Succeed())
		return le
	}
	stsReplicas := func() int32 {
		sts := &appsv1.StatefulSet{}
		Expect(k8sClient.Get(ctx, key(ns, name+"-mongodb"), sts)).To(Succeed())
		return *sts.Spec.Replicas
	}

	BeforeEach(func() {
		ns = newNamespace()
		rs = createShopWithDouble(ns, name)
	})

	It("waits for the pods, then initiates once with every member's stable name", func() {
		Consistently(func() []mongorstest.Command { return rs.Commands("replSetInitiate") }, time.Second, interval).
			Should(BeEmpty(), "no initiate before the pods are ready")
		le := &shopv1.LittleEcom{}
		Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
		Expect(condition(le, shopv1.ConditionReplicaSetInitialized).Reason).To(Equal(shopv1.ReasonWaitingForPods))

		markStatefulSetReady(ns, name+"-mongodb")
		le = readyShop()
		Expect(rs.Commands("replSetInitiate")).To(HaveLen(1))
		cmd := rs.Commands("replSetInitiate")[0]
		Expect(cmd.Doc.String()).To(And(
			ContainSubstring(`"_id": "rs0"`),
			ContainSubstring(name+"-mongodb-0."+name+"-mongodb-headless."+ns+".svc.cluster.local:27017"),
			ContainSubstring(name+"-mongodb-2."+name+"-mongodb-headless."+ns+".svc.cluster.local:27017"),
		))
		Expect(le.Status.MongoDB.Initialized).To(BeTrue())
		Expect(le.Status.MongoDB.Members).To(HaveLen(3))
		Expect(le.Status.MongoDB.Primary).To(ContainSubstring(name + "-mongodb-0."))
		Expect(le.Status.MongoDB.State).To(Equal(shopv1.ReasonInitialized))

		By("creating the services' least-privilege users")
		for user, db := range map[string]string{"backend": "ecom", "auth": "ecom-auth", "notifier": "ecom-notifier"} {
			roles, ok := rs.User("admin", user)
			Expect(ok).To(BeTrue(), user)
			Expect(roles.String()).To(And(ContainSubstring("readWrite"), ContainSubstring(db)), user)
			Expect(roles.String()).NotTo(ContainSubstring("root"), user)
			password := &corev1Secret{}
			Expect(k8sClient.Get(ctx, key(ns, name+"-mongodb-"+user), password)).To(Succeed())
			Expect(rs.UserPassword("admin", user, string(password.Data["password"]))).To(BeTrue(),
				"%s logs in with the password its Deployment reads", user)
		}

		By("letting the backend, and only it, read auth's record of deleted accounts")
		privileges, ok := rs.Role("admin", accountDeletionsReader)
		Expect(ok).To(BeTrue())
		Expect(privileges.String()).To(And(ContainSubstring(`"db": "ecom-auth"`),
			ContainSubstring(`"collection": "account_deletions"`), ContainSubstring(`["find"]`)))
		for user, granted := range map[string]bool{"backend": true, "auth": false, "notifier": false} {
			roles, _ := rs.User("admin", user)
			Expect(strings.Contains(roles.String(), accountDeletionsReader)).To(Equal(granted), user)
		}
	})

	It("does not initiate again after an operator restart", func() {
		markStatefulSetReady(ns, name+"-mongodb")
		readyShop()
		Expect(rs.Commands("replSetInitiate")).To(HaveLen(1))

		By("forgetting what this operator process knew, as a restart does")
		reconciler.memory.clear()
		rs.ResetCommands()
		updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Annotations = map[string]string{"poke": "1"} })
		Eventually(func() int { return len(rs.Commands("createUser", "updateUser")) }, timeout, interval).Should(BeNumerically(">=", 3))
		Expect(rs.Commands("replSetInitiate")).To(BeEmpty())
	})

	It("forgets a deleted shop", func() {
		markStatefulSetReady(ns, name+"-mongodb")
		readyShop()
		Expect(reconciler.memory.remembers(key(ns, name))).To(BeTrue())
		le := &shopv1.LittleEcom{}
		Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
		Expect(k8sClient.Delete(ctx, le)).To(Succeed())
		Eventually(func() bool { return reconciler.memory.remembers(key(ns, name)) }, timeout, interval).Should(BeFalse())
	})

	It("scales up: grows the StatefulSet first, adds members once their pods are ready", func() {
		markStatefulSetReady(ns, name+"-mongodb")
		readyShop()
		updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Spec.MongoDB.Replicas = ptr.To[int32](5) })
		Eventually(stsReplicas, timeout, interval).Should(BeEquivalentTo(5))
		Consistently(func() int { return configMembers(rs) }, time.Second, interval).Should(Equal(3),
			"no member is added before its pod is ready")

		markStatefulSetReady(ns, name+"-mongodb")
		Eventually(func() int { return configMembers(rs) }, timeout, interval).Should(Equal(5))
		Eventually(func(g Gomega) {
			le := readyShop()
			g.Expect(le.Status.MongoDB.Members).To(HaveLen(5))
		}, timeout, interval).Should(Succeed())
	})

	It("scales down: removes members from the set before it shrinks the StatefulSet", func() {
		markStatefulSetReady(ns, name+"-mongodb")
		readyShop()
		updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Spec.MongoDB.Replicas = ptr.To[int32](1) })
		Eventually(func() int32 {
			n := stsReplicas()
			if n < 3 {
				// The moment the StatefulSet shrinks, the set must already have let go of the pods.
				Expect(configMembers(rs)).To(BeNumerically("<=", int(n)))
			}
			return n
		}, timeout, 20*time.Millisecond).Should(BeEquivalentTo(1))
		Expect(configMembers(rs)).To(Equal(1))
	})

	It("says clearly when the members cannot be reached", func() {
		ns2 := newNamespace()
		le := newShop(ns2, "far")
		Expect(k8sClient.Create(ctx, le)).To(Succeed())
		eventually(ns2, "far-mongodb-root", &corev1Secret{})
		// Make the double refuse: this shop's members answer with a wrong set name.
		far, err := doubles.cluster(ctx, ns2, "far")
		Expect(err).NotTo(HaveOccurred())
		for i := range 3 {
			far.Stop(topoHost(ns2, "far", i))
		}
		markStatefulSetReady(ns2, "far-mongodb")
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key(ns2, "far"), le)).To(Succeed())
			c := condition(le, shopv1.ConditionReplicaSetInitialized)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(shopv1.ReasonUnreachable))
			g.Expect(c.Message).To(ContainSubstring("far-mongodb-0"))
		}, timeout, interval).Should(Succeed())
		root := &corev1Secret{}
		Expect(k8sClient.Get(ctx, key(ns2, "far-mongodb-root"), root)).To(Succeed())
		Expect(condition(le, shopv1.ConditionReplicaSetInitialized).Message).NotTo(ContainSubstring(string(root.Data["password"])))
	})
})
