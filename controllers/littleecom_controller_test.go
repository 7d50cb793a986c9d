package controllers

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
)

var _ = Describe("LittleEcom controller", func() {
	var (
		ns string
		le *shopv1.LittleEcom
	)
	const name = "shop"

	BeforeEach(func() {
		ns = newNamespace()
		le = newShop(ns, name)
		Expect(k8sClient.Create(ctx, le)).To(Succeed())
	})

	Context("when a LittleEcom is created with an empty spec", func() {
		It("creates every child, owned by the LittleEcom and labelled", func() {
			children := map[string]client.Object{
				name + "-mongodb":              &appsv1.StatefulSet{},
				name + "-mongodb-headless":     &corev1.Service{},
				name + "-mongodb-root":         &corev1.Secret{},
				name + "-mongodb-keyfile":      &corev1.Secret{},
				name + "-mongodb-backend":      &corev1.Secret{},
				name + "-mongodb-auth":         &corev1.Secret{},
				name + "-mongodb-notifier":     &corev1.Secret{},
				name + "-rabbitmq":             &appsv1.StatefulSet{},
				name + "-rabbitmq-headless":    &corev1.Service{},
				name + "-rabbitmq-admin":       &corev1.Secret{},
				name + "-rabbitmq-definitions": &corev1.Secret{},
				name + "-rabbitmq-config":      &corev1.ConfigMap{},
				name + "-rabbitmq-backend":     &corev1.Secret{},
				name + "-rabbitmq-notifier":    &corev1.Secret{},
				name + "-auth-signing-key":     &corev1.Secret{},
				name + "-backend":              &appsv1.Deployment{},
				name + "-auth":                 &appsv1.Deployment{},
				name + "-notifier":             &appsv1.Deployment{},
				name:                           &corev1.ServiceAccount{},
			}
			for _, svc := range []string{"-rabbitmq", "-backend", "-auth", "-notifier"} {
				children[name+svc+"/svc"] = &corev1.Service{}
			}
			for childName, obj := range children {
				n := childName
				if len(n) > 4 && n[len(n)-4:] == "/svc" {
					n = n[:len(n)-4]
				}
				eventually(ns, n, obj)
				Expect(ownedBy(obj, le)).To(BeTrue(), "%T %s is not owned by the LittleEcom", obj, n)
				Expect(obj.GetLabels()).To(HaveKeyWithValue("app.kubernetes.io/part-of", "littleecom"))
				Expect(obj.GetLabels()).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "littleecom-operator"))
				Expect(obj.GetLabels()).To(HaveKeyWithValue("app.kubernetes.io/instance", name))
			}
		})

		It("configures MongoDB as a replica set of three with a keyfile and volumes", func() {
			sts := &appsv1.StatefulSet{}
			eventually(ns, name+"-mongodb", sts)
			Expect(*sts.Spec.Replicas).To(BeEquivalentTo(3))
			Expect(sts.Spec.ServiceName).To(Equal(name + "-mongodb-headless"))
			Expect(sts.Spec.VolumeClaimTemplates).To(HaveLen(1))
			Expect(sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests.Storage().String()).To(Equal("10Gi"))
			mongod := sts.Spec.Template.Spec.Containers[0]
			Expect(mongod.Args).To(ContainElements("--replSet", "rs0", "--keyFile", "--auth", "--bind_ip_all"))
			Expect(envValue(mongod, "MONGO_INITDB_ROOT_PASSWORD")).To(Equal("secret:" + name + "-mongodb-root/password"))
			Expect(*mongod.SecurityContext.ReadOnlyRootFilesystem).To(BeTrue())
			Expect(*sts.Spec.Template.Spec.SecurityContext.RunAsNonRoot).To(BeTrue())
			Expect(sts.Spec.Template.Annotations).To(HaveKey("littleecom.io/config-hash"))

			headless := &corev1.Service{}
			eventually(ns, name+"-mongodb-headless", headless)
			Expect(headless.Spec.ClusterIP).To(Equal(corev1.ClusterIPNone))
			Expect(headless.Spec.PublishNotReadyAddresses).To(BeTrue())
		})

		It("wires the services to their own credentials by secretKeyRef", func() {
			backend := &appsv1.Deployment{}
			eventually(ns, name+"-backend", backend)
			c := backend.Spec.Template.Spec.Containers[0]
			Expect(envValue(c, contract.EnvMongoPassword)).To(Equal("secret:" + name + "-mongodb-backend/password"))
			Expect(envValue(c, contract.EnvAMQPPassword)).To(Equal("secret:" + name + "-rabbitmq-backend/password"))
			Expect(c.ReadinessProbe.HTTPGet.Path).To(Equal(contract.PathReadyz))
			Expect(c.LivenessProbe.HTTPGet.Path).To(Equal(contract.PathHealthz))
			Expect(*c.SecurityContext.ReadOnlyRootFilesystem).To(BeTrue())

			auth := &appsv1.Deployment{}
			eventually(ns, name+"-auth", auth)
			Expect(envValue(auth.Spec.Template.Spec.Containers[0], contract.EnvAuthSigningKey)).
				To(Equal("secret:" + name + "-auth-signing-key/" + contract.SecretKeySigningKey))

			cm := &corev1.ConfigMap{}
			eventually(ns, name+"-backend", cm)
			Expect(cm.Data[contract.EnvMongoURI]).To(ContainSubstring("replicaSet=rs0"))
			Expect(cm.Data[contract.EnvMongoURI]).To(ContainSubstring(name + "-mongodb-2." + name + "-mongodb-headless." + ns))
			// The Ingress answers CORS by default, so the services must not answer it too.
			Expect(cm.Data[contract.EnvCORSEnabled]).To(Equal("false"))
		})

		It("gives backend and notifier their own least-privilege broker users", func() {
			defs := &corev1.Secret{}
			eventually(ns, name+"-rabbitmq-definitions", defs)
			Expect(string(defs.Data["definitions.json"])).To(And(
				ContainSubstring(`"backend"`), ContainSubstring(`"notifier"`),
				ContainSubstring(contract.Exchange), ContainSubstring(contract.QueueItemAdded),
				ContainSubstring(contract.QueueItemBought), ContainSubstring(contract.RoutingKeyItemBought),
				ContainSubstring(contract.QueueAccountVerify), ContainSubstring(contract.RoutingKeyAccountVerify),
			))
			for _, svc := range []string{"backend", "notifier"} {
				password := &corev1.Secret{}
				eventually(ns, name+"-rabbitmq-"+svc, password)
				Expect(string(defs.Data["definitions.json"])).NotTo(ContainSubstring(string(password.Data["password"])),
					"definitions must hold password hashes, never passwords")
			}
		})

		It("moves from Provisioning to Ready as the workloads become ready", func() {
			Eventually(func(g Gomega) {
				g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
				g.Expect(le.Status.Phase).To(Equal(shopv1.PhaseProvisioning))
				g.Expect(condition(le, shopv1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
				g.Expect(condition(le, shopv1.ConditionMongoDBReady).Reason).To(Equal(shopv1.ReasonProgressing))
			}, timeout, interval).Should(Succeed())

			markAllReady(ns, name)
			markIngressAddress(ns, name, "192.0.2.1")
			Eventually(func(g Gomega) {
				g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
				for _, t := range []string{shopv1.ConditionMongoDBReady, shopv1.ConditionRabbitMQReady,
					shopv1.ConditionAuthReady, shopv1.ConditionBackendReady, shopv1.ConditionNotifierReady,
					shopv1.ConditionIngressReady} {
					g.Expect(condition(le, t).Status).To(Equal(metav1.ConditionTrue), t)
				}
				g.Expect(condition(le, shopv1.ConditionNotifierReady).Reason).To(Equal(shopv1.ReasonSMTPNotConfigured))
				g.Expect(condition(le, shopv1.ConditionReplicaSetInitialized).Status).To(Equal(metav1.ConditionTrue))
				g.Expect(condition(le, shopv1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
				g.Expect(le.Status.Phase).To(Equal(shopv1.PhaseReady))
				g.Expect(le.Status.ReadyComponents).To(Equal("7/7"))
				g.Expect(le.Status.Endpoints.API).To(Equal("http://192.0.2.1/"))
				g.Expect(le.Status.ObservedGeneration).To(Equal(le.Generation))
			}, timeout, interval).Should(Succeed())
		})
	})

	Context("when the shop is in steady state", func() {
		It("writes nothing on a resync", func() {
			markAllReady(ns, name)
			// Let the reconciles caused by the status writes above settle.
			Eventually(func() int64 {
				before := writes.seen(ns)
				time.Sleep(1500 * time.Millisecond)
				return writes.seen(ns) - before
			}, timeout, 10*time.Millisecond).Should(BeZero())

			versions := childVersions(ns)
			before := writes.seen(ns)
			By("triggering a reconcile without changing the spec")
			updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Annotations = map[string]string{"test/poke": "1"} })
			Consistently(func() int64 { return writes.seen(ns) - before }, 3*time.Second, interval).Should(BeZero())
			Expect(childVersions(ns)).To(Equal(versions))
		})
	})

	Context("when a child is deleted or edited by hand", func() {
		It("puts a deleted StatefulSet back", func() {
			sts := &appsv1.StatefulSet{}
			eventually(ns, name+"-mongodb", sts)
			Expect(k8sClient.Delete(ctx, sts)).To(Succeed())
			Eventually(func(g Gomega) {
				fresh := &appsv1.StatefulSet{}
				g.Expect(k8sClient.Get(ctx, key(ns, name+"-mongodb"), fresh)).To(Succeed())
				g.Expect(fresh.UID).NotTo(Equal(sts.UID))
			}, timeout, interval).Should(Succeed())
		})

		It("reverts an edited Deployment", func() {
			d := &appsv1.Deployment{}
			eventually(ns, name+"-backend", d)
			d.Spec.Replicas = ptr.To[int32](7)
			d.Spec.Template.Spec.Containers[0].Image = "someone/else:1"
			Expect(k8sClient.Update(ctx, d)).To(Succeed())
			Eventually(func(g Gomega) {
				g.Expect(k8sClient.Get(ctx, key(ns, name+"-backend"), d)).To(Succeed())
				g.Expect(*d.Spec.Replicas).To(BeEquivalentTo(2))
				g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal("littleecom/backend:0.1.0"))
			}, timeout, interval).Should(Succeed())
		})

		It("never regenerates a generated secret, and restores a deleted one with new values", func() {
			secret := &corev1.Secret{}
			eventually(ns, name+"-mongodb-root", secret)
			password := string(secret.Data["password"])
			Expect(password).To(HaveLen(32))

			By("poking the LittleEcom, the password stays")
			updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Spec.Backend.Replicas = ptr.To[int32](3) })
			Eventually(func(g Gomega) {
				d := &appsv1.Deployment{}
				g.Expect(k8sClient.Get(ctx, key(ns, name+"-backend"), d)).To(Succeed())
				g.Expect(*d.Spec.Replicas).To(BeEquivalentTo(3))
			}, timeout, interval).Should(Succeed())
			Expect(k8sClient.Get(ctx, key(ns, name+"-mongodb-root"), secret)).To(Succeed())
			Expect(string(secret.Data["password"])).To(Equal(password))
		})
	})

	Context("when the spec changes", func() {
		It("rolls replicas, image and resources out to the children", func() {
			eventually(ns, name+"-auth", &appsv1.Deployment{})
			backend := &appsv1.Deployment{}
			eventually(ns, name+"-backend", backend)
			backendHash := backend.Spec.Template.Annotations["littleecom.io/config-hash"]
			updateShop(ns, name, func(le *shopv1.LittleEcom) {
				le.Spec.MongoDB.Replicas = ptr.To[int32](5)
				le.Spec.Auth.Replicas = ptr.To[int32](4)
				le.Spec.Auth.Image = "littleecom/auth:0.2.0"
				le.Spec.Auth.Resources = corev1.ResourceRequirements{Limits: corev1.ResourceList{
					corev1.ResourceMemory: resource.MustParse("300Mi"),
				}}
			})
			Eventually(func(g Gomega) {
				d := &appsv1.Deployment{}
				g.Expect(k8sClient.Get(ctx, key(ns, name+"-auth"), d)).To(Succeed())
				c := d.Spec.Template.Spec.Containers[0]
				g.Expect(*d.Spec.Replicas).To(BeEquivalentTo(4))
				g.Expect(c.Image).To(Equal("littleecom/auth:0.2.0"))
				g.Expect(c.Resources.Limits.Memory().String()).To(Equal("300Mi"))

				sts := &appsv1.StatefulSet{}
				g.Expect(k8sClient.Get(ctx, key(ns, name+"-mongodb"), sts)).To(Succeed())
				g.Expect(*sts.Spec.Replicas).To(BeEquivalentTo(5))
			}, timeout, interval).Should(Succeed())

			By("growing MongoDB without restarting the services: their seed list stays the same")
			Expect(k8sClient.Get(ctx, key(ns, name+"-backend"), backend)).To(Succeed())
			Expect(backend.Spec.Template.Annotations["littleecom.io/config-hash"]).To(Equal(backendHash))
			cm := &corev1.ConfigMap{}
			Expect(k8sClient.Get(ctx, key(ns, name+"-backend"), cm)).To(Succeed())
			Expect(cm.Data[contract.EnvMongoURI]).NotTo(ContainSubstring(name + "-mongodb-3."))
		})

		It("rolls a workload when a Secret it reads changes", func() {
			d := &appsv1.Deployment{}
			eventually(ns, name+"-backend", d)
			hash := d.Spec.Template.Annotations["littleecom.io/config-hash"]
			Expect(hash).NotTo(BeEmpty())

			secret := &corev1.Secret{}
			eventually(ns, name+"-mongodb-backend", secret)
			secret.Data["password"] = []byte("rotated-by-an-admin-000000000000")
			Expect(k8sClient.Update(ctx, secret)).To(Succeed())
			Eventually(func(g Gomega) {
				g.Expect(k8sClient.Get(ctx, key(ns, name+"-backend"), d)).To(Succeed())
				g.Expect(d.Spec.Template.Annotations["littleecom.io/config-hash"]).NotTo(Equal(hash))
			}, timeout, interval).Should(Succeed())
		})
	})

	Context("when the user supplies the MongoDB root credentials", func() {
		It("uses the user's Secret and generates none", func() {
			ns2 := newNamespace()
			Expect(k8sClient.Create(ctx, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: "my-root", Namespace: ns2},
				StringData: map[string]string{"username": "admin", "password": "from-the-user"},
			})).To(Succeed())
			own := newShop(ns2, "byo")
			own.Spec.MongoDB.CredentialsSecretRef = &shopv1.SecretReference{Name: "my-root"}
			Expect(k8sClient.Create(ctx, own)).To(Succeed())

			sts := &appsv1.StatefulSet{}
			eventually(ns2, "byo-mongodb", sts)
			Expect(envValue(sts.Spec.Template.Spec.Containers[0], "MONGO_INITDB_ROOT_PASSWORD")).To(Equal("secret:my-root/password"))
			err := k8sClient.Get(ctx, key(ns2, "byo-mongodb-root"), &corev1.Secret{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "no root Secret may be generated when the user supplies one")
		})

		It("rolls a workload at once when the user changes a Secret the spec names", func() {
			ns2 := newNamespace()
			smtp := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: "relay-login", Namespace: ns2},
				StringData: map[string]string{"username": "shop", "password": "first"},
			}
			Expect(k8sClient.Create(ctx, smtp)).To(Succeed())
			own := newShop(ns2, "rotates")
			own.Spec.Notifier.SMTP.Host = "smtp.example.test"
			own.Spec.Notifier.SMTP.CredentialsSecretRef = &shopv1.SecretReference{Name: "relay-login"}
			Expect(k8sClient.Create(ctx, own)).To(Succeed())
			d := &appsv1.Deployment{}
			var hash string
			Eventually(func(g Gomega) {
				g.Expect(k8sClient.Get(ctx, key(ns2, "rotates-notifier"), d)).To(Succeed())
				hash = d.Spec.Template.Annotations["littleecom.io/config-hash"]
				g.Expect(hash).NotTo(BeEmpty())
			}, timeout, interval).Should(Succeed())

			// Nothing else brings a reconcile within the timeout: the shop's pods are not
			// ready, so there is no polling, and the periodic resync is minutes away.
			Expect(k8sClient.Get(ctx, key(ns2, "relay-login"), smtp)).To(Succeed())
			smtp.Data["password"] = []byte("rotated")
			Expect(k8sClient.Update(ctx, smtp)).To(Succeed())
			Eventually(func(g Gomega) {
				g.Expect(k8sClient.Get(ctx, key(ns2, "rotates-notifier"), d)).To(Succeed())
				g.Expect(d.Spec.Template.Annotations["littleecom.io/config-hash"]).NotTo(Equal(hash))
			}, timeout, interval).Should(Succeed())
		})

		It("reports a missing user Secret in the condition", func() {
			ns2 := newNamespace()
			own := newShop(ns2, "missing")
			own.Spec.RabbitMQ.CredentialsSecretRef = &shopv1.SecretReference{Name: "not-there"}
			Expect(k8sClient.Create(ctx, own)).To(Succeed())
			Eventually(func(g Gomega) {
				g.Expect(k8sClient.Get(ctx, key(ns2, "missing"), own)).To(Succeed())
				c := condition(own, shopv1.ConditionRabbitMQReady)
				g.Expect(c).NotTo(BeNil())
				g.Expect(c.Reason).To(Equal(shopv1.ReasonReconcileFailed))
				g.Expect(c.Message).To(ContainSubstring("spec.rabbitmq.credentialsSecretRef"))
				g.Expect(own.Status.Phase).To(Equal(shopv1.PhaseDegraded))
			}, timeout, interval).Should(Succeed())
		})
	})
})

// childVersions maps every child object in ns to its resourceVersion.
func childVersions(ns string) map[string]string {
	out := map[string]string{}
	lists := []client.ObjectList{&appsv1.StatefulSetList{}, &appsv1.DeploymentList{}, &corev1.ServiceList{},
		&corev1.SecretList{}, &corev1.ConfigMapList{}, &corev1.ServiceAccountList{}}
	for _, l := range lists {
		Expect(k8sClient.List(ctx, l, client.InNamespace(ns))).To(Succeed())
		items, _ := metaItems(l)
		for _, o := range items {
			out[kindOf(o)+"/"+o.GetName()] = o.GetResourceVersion()
		}
	}
	return out
}
