package controllers

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// loggingShop is the name of the shop the logging specs run.
const loggingShop = "logs"

// loggingChildren are the namespaced objects of the logging stack of shop loggingShop.
func loggingChildren() map[string]client.Object {
	const name = loggingShop
	return map[string]client.Object{
		"StatefulSet/" + name + "-elasticsearch":      &appsv1.StatefulSet{},
		"Service/" + name + "-elasticsearch":          &corev1.Service{},
		"Service/" + name + "-elasticsearch-headless": &corev1.Service{},
		"Secret/" + name + "-elasticsearch-transport": &corev1.Secret{},
		"Deployment/" + name + "-kibana":              &appsv1.Deployment{},
		"Service/" + name + "-kibana":                 &corev1.Service{},
		"ConfigMap/" + name + "-fluentd":              &corev1.ConfigMap{},
		"DaemonSet/" + name + "-fluentd":              &appsv1.DaemonSet{},
		"ServiceAccount/" + name + "-fluentd":         &corev1.ServiceAccount{},
		"NetworkPolicy/" + name + "-elasticsearch":    &networkingv1.NetworkPolicy{},
	}
}

func objName(k string) string { return k[strings.Index(k, "/")+1:] }

// clusterRoleName is the ClusterRole (and binding) of Fluentd of shop ns/loggingShop.
func clusterRoleName(ns string) string { return "littleecom-" + ns + "-" + loggingShop + "-fluentd" }

// expectClusterRBAC waits until shop ns/loggingShop's ClusterRole and binding exist (or are gone).
func expectClusterRBAC(ns string, exist bool) {
	EventuallyWithOffset(1, func(g Gomega) {
		for _, obj := range []client.Object{&rbacv1.ClusterRole{}, &rbacv1.ClusterRoleBinding{}} {
			err := k8sClient.Get(ctx, client.ObjectKey{Name: clusterRoleName(ns)}, obj)
			if exist {
				g.Expect(err).NotTo(HaveOccurred())
			} else {
				g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%T still exists", obj)
			}
		}
	}, timeout, interval).Should(Succeed())
}

func withLogging(le *shopv1.LittleEcom) { le.Spec.Logging.Enabled = true }

var _ = Describe("LittleEcom logging stack", func() {
	var ns string
	const name = loggingShop

	BeforeEach(func() {
		ns = newNamespace()
		le := newShop(ns, name)
		withLogging(le)
		Expect(k8sClient.Create(ctx, le)).To(Succeed())
	})

	Context("when logging is enabled", func() {
		It("creates Elasticsearch, Kibana and Fluentd, owned and labelled, and the cluster-scoped RBAC behind a finalizer", func() {
			le := &shopv1.LittleEcom{}
			eventually(ns, name, le)
			for k, obj := range loggingChildren() {
				eventually(ns, objName(k), obj)
				Expect(ownedBy(obj, le)).To(BeTrue(), "%s is not owned by the LittleEcom", k)
				Expect(obj.GetLabels()).To(HaveKeyWithValue(resource.LabelInstance, name))
			}

			sts := &appsv1.StatefulSet{}
			eventually(ns, name+"-elasticsearch", sts)
			es := sts.Spec.Template.Spec.Containers[0]
			Expect(envValue(es, "discovery.type")).To(Equal("single-node"))
			Expect(envValue(es, "node.store.allow_mmap")).To(Equal("false"))
			Expect(envValue(es, "xpack.security.enabled")).To(Equal("true"))
			Expect(envValue(es, "ELASTIC_PASSWORD")).To(Equal("secret:" + name + "-elasticsearch-credentials/" + resource.ElasticPasswordKey))
			Expect(*sts.Spec.Template.Spec.SecurityContext.RunAsUser).To(BeEquivalentTo(1000))
			Expect(*sts.Spec.Template.Spec.SecurityContext.FSGroup).To(BeEquivalentTo(1000))
			Expect(sts.Spec.VolumeClaimTemplates).To(HaveLen(1))

			creds := &corev1.Secret{}
			eventually(ns, name+"-elasticsearch-credentials", creds)
			Expect(creds.Data).To(HaveKey(resource.ElasticPasswordKey))
			Expect(creds.Data).To(HaveKey(resource.KibanaPasswordKey))
			Expect(creds.Data).To(HaveKey(resource.FluentdPasswordKey))

			kibana := &appsv1.Deployment{}
			eventually(ns, name+"-kibana", kibana)
			kc := kibana.Spec.Template.Spec.Containers[0]
			Expect(envValue(kc, "SERVER_BASEPATH")).To(Equal("/kibana"))
			Expect(envValue(kc, "SERVER_REWRITEBASEPATH")).To(Equal("true"))
			Expect(envValue(kc, "ELASTICSEARCH_USERNAME")).To(Equal("kibana_system"))

			cm := &corev1.ConfigMap{}
			eventually(ns, name+"-fluentd", cm)
			Expect(cm.Data[resource.FluentdConfKey]).To(And(
				ContainSubstring("path /var/log/containers/*_"+ns+"_*.log"),
				ContainSubstring("pos_file /var/log/fluentd-"+ns+"-"+name+".pos"),
				ContainSubstring("@type multi_format"), ContainSubstring("@type kubernetes_metadata"),
				ContainSubstring("overflow_action drop_oldest_chunk")))
			ds := &appsv1.DaemonSet{}
			eventually(ns, name+"-fluentd", ds)
			Expect(ds.Spec.Template.Spec.ServiceAccountName).To(Equal(name + "-fluentd"))
			Expect(envValue(ds.Spec.Template.Spec.Containers[0], "FLUENT_ELASTICSEARCH_PASSWORD")).
				To(Equal("secret:" + name + "-elasticsearch-credentials/" + resource.FluentdPasswordKey))

			expectClusterRBAC(ns, true)
			role := &rbacv1.ClusterRole{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Name: clusterRoleName(ns)}, role)).To(Succeed())
			Expect(role.Labels).To(HaveKeyWithValue(resource.LabelInstance, name))
			Expect(role.Labels).To(HaveKeyWithValue(resource.LabelNamespace, ns))
			Expect(role.Rules[0].Resources).To(ConsistOf("pods", "namespaces"))
			binding := &rbacv1.ClusterRoleBinding{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Name: clusterRoleName(ns)}, binding)).To(Succeed())
			Expect(binding.Subjects).To(ConsistOf(rbacv1.Subject{Kind: "ServiceAccount", Name: name + "-fluentd", Namespace: ns}))

			Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			Expect(controllerutil.ContainsFinalizer(le, ClusterResourcesFinalizer)).To(BeTrue())
		})

		It("puts a ClusterRole deleted by hand back", func() {
			expectClusterRBAC(ns, true)
			role := &rbacv1.ClusterRole{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Name: clusterRoleName(ns)}, role)).To(Succeed())
			Expect(k8sClient.Delete(ctx, role)).To(Succeed())
			Eventually(func(g Gomega) {
				fresh := &rbacv1.ClusterRole{}
				g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: clusterRoleName(ns)}, fresh)).To(Succeed())
				g.Expect(fresh.UID).NotTo(Equal(role.UID))
			}, timeout, interval).Should(Succeed())
		})

		It("reports LoggingReady True once Elasticsearch, Kibana and Fluentd are ready", func() {
			Eventually(func(g Gomega) {
				le := &shopv1.LittleEcom{}
				g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
				c := condition(le, shopv1.ConditionLoggingReady)
				g.Expect(c).NotTo(BeNil())
				g.Expect(c.Status).NotTo(Equal(metav1.ConditionTrue))
				g.Expect(c.Reason).To(Equal(shopv1.ReasonProgressing))
			}, timeout, interval).Should(Succeed())

			markStatefulSetReady(ns, name+"-elasticsearch")
			markDeploymentReady(ns, name+"-kibana")
			Consistently(func() metav1.ConditionStatus {
				le := &shopv1.LittleEcom{}
				Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
				return condition(le, shopv1.ConditionLoggingReady).Status
			}, time.Second, interval).ShouldNot(Equal(metav1.ConditionTrue), "Fluentd is not ready yet")

			markDaemonSetReady(ns, name+"-fluentd")
			Eventually(func(g Gomega) {
				le := &shopv1.LittleEcom{}
				g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
				c := condition(le, shopv1.ConditionLoggingReady)
				g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
				g.Expect(c.Reason).To(Equal(shopv1.ReasonReady))
			}, timeout, interval).Should(Succeed())
		})

		It("writes nothing on a resync", func() {
			markAllReady(ns, name)
			markStatefulSetReady(ns, name+"-elasticsearch")
			markDeploymentReady(ns, name+"-kibana")
			markDaemonSetReady(ns, name+"-fluentd")
			Eventually(func() int64 {
				before := writes.n.Load()
				time.Sleep(1500 * time.Millisecond)
				return writes.n.Load() - before
			}, timeout, 10*time.Millisecond).Should(BeZero())

			before := writes.n.Load()
			updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Annotations = map[string]string{"test/poke": "1"} })
			Consistently(func() int64 { return writes.n.Load() - before }, 2*time.Second, interval).Should(BeZero())
		})
	})

	Context("when logging is disabled and enabled again", func() {
		It("removes every object of the stack, then creates it again", func() {
			for k, obj := range loggingChildren() {
				eventually(ns, objName(k), obj)
			}
			expectClusterRBAC(ns, true)
			creds := &corev1.Secret{}
			eventually(ns, name+"-elasticsearch-credentials", creds)

			By("disabling logging")
			updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Spec.Logging.Enabled = false })
			Eventually(func(g Gomega) {
				for k, obj := range loggingChildren() {
					err := k8sClient.Get(ctx, key(ns, objName(k)), obj)
					g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%s still exists", k)
				}
			}, timeout, interval).Should(Succeed())
			expectClusterRBAC(ns, false)
			Eventually(func(g Gomega) {
				le := &shopv1.LittleEcom{}
				g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
				g.Expect(controllerutil.ContainsFinalizer(le, ClusterResourcesFinalizer)).To(BeFalse())
				c := condition(le, shopv1.ConditionLoggingReady)
				g.Expect(c.Reason).To(Equal(shopv1.ReasonDisabled))
				g.Expect(le.Status.Endpoints.Kibana).To(BeEmpty())
			}, timeout, interval).Should(Succeed())
			By("keeping the credentials while the data volumes are retained")
			kept := &corev1.Secret{}
			Expect(k8sClient.Get(ctx, key(ns, name+"-elasticsearch-credentials"), kept)).To(Succeed())
			Expect(kept.Data).To(Equal(creds.Data))

			By("enabling logging again")
			updateShop(ns, name, withLogging)
			for k, obj := range loggingChildren() {
				eventually(ns, objName(k), obj)
			}
			expectClusterRBAC(ns, true)
			Expect(k8sClient.Get(ctx, key(ns, name+"-elasticsearch-credentials"), kept)).To(Succeed())
			Expect(kept.Data).To(Equal(creds.Data))
		})
	})

	Context("when the LittleEcom is deleted", func() {
		It("deletes the cluster-scoped objects and lets the deletion complete", func() {
			expectClusterRBAC(ns, true)
			Eventually(func(g Gomega) {
				le := &shopv1.LittleEcom{}
				g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
				g.Expect(controllerutil.ContainsFinalizer(le, ClusterResourcesFinalizer)).To(BeTrue())
			}, timeout, interval).Should(Succeed())
			Expect(k8sClient.Delete(ctx, newShop(ns, name))).To(Succeed())
			expectClusterRBAC(ns, false)
			Eventually(func() bool {
				return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, name), &shopv1.LittleEcom{}))
			}, timeout, interval).Should(BeTrue())
		})
	})

	Context("when two namespaces hold a LittleEcom of the same name", func() {
		It("gives each its own ClusterRole, binding and Fluentd paths", func() {
			other := newNamespace()
			le := newShop(other, name)
			withLogging(le)
			Expect(k8sClient.Create(ctx, le)).To(Succeed())
			expectClusterRBAC(ns, true)
			expectClusterRBAC(other, true)

			for _, n := range []string{ns, other} {
				b := &rbacv1.ClusterRoleBinding{}
				Expect(k8sClient.Get(ctx, client.ObjectKey{Name: clusterRoleName(n)}, b)).To(Succeed())
				Expect(b.Subjects[0].Namespace).To(Equal(n))
				cm := &corev1.ConfigMap{}
				eventually(n, name+"-fluentd", cm)
				Expect(cm.Data[resource.FluentdConfKey]).To(And(
					ContainSubstring("pos_file /var/log/fluentd-"+n+"-"+name+".pos"),
					ContainSubstring("path /var/log/containers/*_"+n+"_*.log"),
					ContainSubstring("/var/log/fluentd-buffers/"+n+"-"+name+"/")))
			}

			By("deleting one shop, the other's cluster-scoped objects stay")
			Expect(k8sClient.Delete(ctx, newShop(other, name))).To(Succeed())
			expectClusterRBAC(other, false)
			Consistently(func() error {
				return k8sClient.Get(ctx, client.ObjectKey{Name: clusterRoleName(ns)}, &rbacv1.ClusterRole{})
			}, time.Second, interval).Should(Succeed())
		})
	})
})

var _ = Describe("LittleEcom policies", func() {
	It("keeps NetworkPolicies and PodDisruptionBudgets, and drops a service's budget at one replica", func() {
		ns := newNamespace()
		const name = "pol"
		Expect(k8sClient.Create(ctx, newShop(ns, name))).To(Succeed())

		mongo := &networkingv1.NetworkPolicy{}
		eventually(ns, name+"-mongodb", mongo)
		Expect(mongo.Spec.PodSelector.MatchLabels).To(Equal(resource.SelectorLabels(name, resource.ComponentMongoDB)))
		var admitted []string
		for _, rule := range mongo.Spec.Ingress {
			for _, from := range rule.From {
				if from.NamespaceSelector != nil {
					Expect(from.NamespaceSelector.MatchLabels).To(BeEmpty())
					admitted = append(admitted, "operator:"+from.PodSelector.MatchLabels["control-plane"])
					continue
				}
				admitted = append(admitted, from.PodSelector.MatchLabels[resource.LabelComponent])
			}
		}
		Expect(admitted).To(ConsistOf("backend", "auth", "notifier", "operator:controller-manager", "mongodb"))

		rabbit := &networkingv1.NetworkPolicy{}
		eventually(ns, name+"-rabbitmq", rabbit)
		Expect(rabbit.Spec.Ingress[0].From).To(HaveLen(2))
		Expect(apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, name+"-elasticsearch"), &networkingv1.NetworkPolicy{}))).
			To(BeTrue(), "no Elasticsearch policy while logging is off")

		mongoPDB := &policyv1.PodDisruptionBudget{}
		eventually(ns, name+"-mongodb", mongoPDB)
		Expect(mongoPDB.Spec.MaxUnavailable.IntValue()).To(Equal(1))
		for _, c := range []string{"backend", "auth"} {
			pdb := &policyv1.PodDisruptionBudget{}
			eventually(ns, name+"-"+c, pdb)
			Expect(pdb.Spec.MinAvailable.IntValue()).To(Equal(1))
			Expect(pdb.Spec.Selector.MatchLabels).To(Equal(resource.SelectorLabels(name, c)))
		}

		By("scaling backend to one replica")
		updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Spec.Backend.Replicas = ptr.To[int32](1) })
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, name+"-backend"), &policyv1.PodDisruptionBudget{}))
		}, timeout, interval).Should(BeTrue())
		Expect(k8sClient.Get(ctx, key(ns, name+"-auth"), &policyv1.PodDisruptionBudget{})).To(Succeed())
	})
})

// markDaemonSetReady plays the DaemonSet controller and kubelet on two nodes.
func markDaemonSetReady(ns, name string) {
	EventuallyWithOffset(1, func() error {
		ds := &appsv1.DaemonSet{}
		if err := k8sClient.Get(ctx, key(ns, name), ds); err != nil {
			return err
		}
		ds.Status = appsv1.DaemonSetStatus{
			ObservedGeneration: ds.Generation, DesiredNumberScheduled: 2, CurrentNumberScheduled: 2,
			NumberReady: 2, UpdatedNumberScheduled: 2, NumberAvailable: 2,
		}
		return k8sClient.Status().Update(ctx, ds)
	}, timeout, interval).Should(Succeed())
}
