package controllers

import (
	"fmt"
	"io"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/ferret"
)

// The external database in these specs is real: an embedded FerretDB on loopback, which
// speaks the MongoDB wire protocol. What it cannot show is TLS, mongodb+srv:// lookups and
// SCRAM credentials being accepted (FerretDB v1 refuses SCRAM: those are checked as refusals).

// startExternalDB runs an embedded FerretDB until the spec ends; dir keeps its data, so a
// restart on the same address serves the same database.
func startExternalDB(addr, dir string) *ferret.Server {
	db, err := ferret.Start(addr, dir, io.Discard)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(db.Stop)
	return db
}

// externalShopName is the shop of the external-database specs.
const externalShopName = "ext"

// createExternalShop creates Secret "atlas" with data (unless nil) and shop "ext" whose
// database it describes, and deletes the shop when the spec ends: a shop left behind would
// be pinged every second for the rest of the suite.
func createExternalShop(ns string, data map[string]string) {
	if data != nil {
		Expect(k8sClient.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "atlas", Namespace: ns},
			StringData: data,
		})).To(Succeed())
	}
	le := newShop(ns, externalShopName)
	le.Spec.MongoDB.External = &shopv1.ExternalMongoDBSpec{SecretRef: shopv1.SecretReference{Name: "atlas"}}
	Expect(k8sClient.Create(ctx, le)).To(Succeed())
	DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, le))).To(Succeed()) })
}

// expectMongoDBReady polls shop "ext"'s MongoDBReady condition until it has status and
// reason, and a message with every one of messageParts.
func expectMongoDBReady(ns string, status metav1.ConditionStatus, reason string, messageParts ...string) *metav1.Condition {
	le := &shopv1.LittleEcom{}
	var c *metav1.Condition
	EventuallyWithOffset(1, func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, key(ns, externalShopName), le)).To(Succeed())
		c = condition(le, shopv1.ConditionMongoDBReady)
		g.Expect(c.Status).To(Equal(status), c.Message)
		g.Expect(c.Reason).To(Equal(reason), c.Message)
		for _, part := range messageParts {
			g.Expect(c.Message).To(ContainSubstring(part))
		}
	}, timeout, interval).Should(Succeed())
	return c
}

var _ = Describe("a shop with an external MongoDB", func() {
	const name = externalShopName
	var (
		ns string
		db *ferret.Server
	)
	BeforeEach(func() {
		ns = newNamespace()
		db = startExternalDB("127.0.0.1:0", GinkgoT().TempDir())
	})

	It("creates no MongoDB objects of its own", func() {
		createExternalShop(ns, map[string]string{"uri": db.URI()})
		// The RabbitMQ policy is applied by the last phase: the whole reconcile has run.
		eventually(ns, name+"-rabbitmq", &networkingv1.NetworkPolicy{})
		for objName, obj := range map[string]client.Object{
			name + "-mongodb":          &appsv1.StatefulSet{},
			name + "-mongodb-headless": &corev1.Service{},
			name + "-mongodb-root":     &corev1.Secret{},
			name + "-mongodb-keyfile":  &corev1.Secret{},
			name + "-mongodb-backend":  &corev1.Secret{},
			name + "-mongodb-auth":     &corev1.Secret{},
			name + "-mongodb-notifier": &corev1.Secret{},
			name + "-mongodb/np":       &networkingv1.NetworkPolicy{},
			name + "-mongodb/pdb":      &policyv1.PodDisruptionBudget{},
		} {
			objName, _, _ = strings.Cut(objName, "/")
			err := k8sClient.Get(ctx, key(ns, objName), obj)
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%T %s exists for a shop with an external database", obj, objName)
		}
	})

	It("gives the services the Secret's connection by secretKeyRef and the usual databases", func() {
		createExternalShop(ns, map[string]string{"uri": db.URI()})
		for component, database := range map[string]string{
			"backend": contract.DatabaseBackend, "auth": contract.DatabaseAuth, "notifier": contract.DatabaseNotifier,
		} {
			d := &appsv1.Deployment{}
			eventually(ns, name+"-"+component, d)
			c := d.Spec.Template.Spec.Containers[0]
			Expect(envValue(c, contract.EnvMongoURI)).To(Equal("secret:atlas/uri"))
			Expect(envValue(c, contract.EnvMongoUsername)).To(Equal("secret:atlas/username"))
			Expect(envValue(c, contract.EnvMongoPassword)).To(Equal("secret:atlas/password"))
			cm := &corev1.ConfigMap{}
			eventually(ns, name+"-"+component, cm)
			Expect(cm.Data).NotTo(HaveKey(contract.EnvMongoURI), "the URI may carry credentials: never in a ConfigMap")
			Expect(cm.Data[contract.EnvMongoDatabase]).To(Equal(database))
		}
	})

	It("is Ready when the database answers a ping, and follows it going away and coming back", func() {
		createExternalShop(ns, map[string]string{"uri": db.URI()})
		expectMongoDBReady(ns, metav1.ConditionTrue, shopv1.ReasonExternalReachable, db.Addr())

		markStatefulSetReady(ns, name+"-rabbitmq")
		for _, component := range []string{"auth", "backend", "notifier"} {
			markDeploymentReady(ns, name+"-"+component)
		}
		markIngressAddress(ns, name, "192.0.2.1")
		le := &shopv1.LittleEcom{}
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			rs := condition(le, shopv1.ConditionReplicaSetInitialized)
			g.Expect(rs.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(rs.Reason).To(Equal(shopv1.ReasonExternalDatabase))
			g.Expect(condition(le, shopv1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(le.Status.Phase).To(Equal(shopv1.PhaseReady))
			g.Expect(le.Status.ReadyComponents).To(Equal("6/6"))
			g.Expect(le.Status.MongoDB).To(Equal(shopv1.MongoDBStatus{State: shopv1.ReasonExternalDatabase}))
		}, timeout, interval).Should(Succeed())

		By("stopping the database")
		addr := db.Addr()
		db.Stop()
		expectMongoDBReady(ns, metav1.ConditionFalse, shopv1.ReasonExternalUnreachable, addr)
		Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
		Expect(condition(le, shopv1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
		Expect(le.Status.Phase).To(Equal(shopv1.PhaseDegraded))

		By("starting it again on the same address")
		startExternalDB(addr, GinkgoT().TempDir())
		expectMongoDBReady(ns, metav1.ConditionTrue, shopv1.ReasonExternalReachable)
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			g.Expect(le.Status.Phase).To(Equal(shopv1.PhaseReady))
		}, timeout, interval).Should(Succeed())
	})

	It("writes nothing while the database keeps answering", func() {
		createExternalShop(ns, map[string]string{"uri": db.URI()})
		expectMongoDBReady(ns, metav1.ConditionTrue, shopv1.ReasonExternalReachable)
		Eventually(func() int64 {
			before := writes.seen(ns)
			time.Sleep(1500 * time.Millisecond)
			return writes.seen(ns) - before
		}, timeout, 10*time.Millisecond).Should(BeZero())
		// The suite pings every second: three pings, no write.
		before := writes.seen(ns)
		Consistently(func() int64 { return writes.seen(ns) - before }, 3*time.Second, interval).Should(BeZero())
	})

	It("rolls the services when the Secret changes", func() {
		createExternalShop(ns, map[string]string{"uri": db.URI()})
		d := &appsv1.Deployment{}
		var hash string
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key(ns, name+"-backend"), d)).To(Succeed())
			hash = d.Spec.Template.Annotations["littleecom.io/config-hash"]
			g.Expect(hash).NotTo(BeEmpty())
		}, timeout, interval).Should(Succeed())

		secret := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, key(ns, "atlas"), secret)).To(Succeed())
		secret.Data["uri"] = []byte(db.URI() + "&appName=rotated")
		Expect(k8sClient.Update(ctx, secret)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key(ns, name+"-backend"), d)).To(Succeed())
			g.Expect(d.Spec.Template.Annotations["littleecom.io/config-hash"]).NotTo(Equal(hash))
		}, timeout, interval).Should(Succeed())
	})

	It("says that the Secret is missing, and connects once it is created", func() {
		createExternalShop(ns, nil)
		expectMongoDBReady(ns, metav1.ConditionFalse, shopv1.ReasonExternalSecretMissing, "Secret atlas", "does not exist")

		Expect(k8sClient.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "atlas", Namespace: ns},
			StringData: map[string]string{"connection": db.URI()},
		})).To(Succeed())
		expectMongoDBReady(ns, metav1.ConditionFalse, shopv1.ReasonExternalSecretMissing, "Secret atlas has no key uri")

		secret := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, key(ns, "atlas"), secret)).To(Succeed())
		secret.Data["uri"] = []byte(db.URI())
		Expect(k8sClient.Update(ctx, secret)).To(Succeed())
		expectMongoDBReady(ns, metav1.ConditionTrue, shopv1.ReasonExternalReachable)
	})

	It("reports refused credentials without revealing them, in the status or in events", func() {
		const password = "Sup3r-s3cret-pw"
		createExternalShop(ns, map[string]string{
			"uri":      fmt.Sprintf("mongodb://shop:%s@%s/?directConnection=true", password, db.Addr()),
			"username": "shop", "password": password,
		})
		c := expectMongoDBReady(ns, metav1.ConditionFalse, shopv1.ReasonExternalAuthFailed)
		Expect(c.Message).NotTo(ContainSubstring(password))
		Eventually(func(g Gomega) {
			events := eventsWithReason(g, ns, shopv1.ReasonExternalAuthFailed)
			g.Expect(events).NotTo(BeEmpty())
			for _, e := range events {
				g.Expect(e.Note).NotTo(ContainSubstring(password))
			}
		}, timeout, interval).Should(Succeed())
	})
})
