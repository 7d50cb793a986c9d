package controllers

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
		"Role/" + name + "-fluentd":                   &rbacv1.Role{},
		"RoleBinding/" + name + "-fluentd":            &rbacv1.RoleBinding{},
		"NetworkPolicy/" + name + "-elasticsearch":    &networkingv1.NetworkPolicy{},
		"NetworkPolicy/" + name + "-kibana":           &networkingv1.NetworkPolicy{},
	}
}

func objName(k string) string { return k[strings.Index(k, "/")+1:] }

// clusterRoleName is the ClusterRoleBinding of Fluentd of shop ns/loggingShop (and the
// ClusterRole earlier releases made under the same name).
func clusterRoleName(ns string) string { return "littleecom-" + ns + "-" + loggingShop + "-fluentd" }

// expectClusterRBAC waits until shop ns/loggingShop's ClusterRoleBinding exists (or it and
// any former ClusterRole are gone).
func expectClusterRBAC(ns string, exist bool) {
	EventuallyWithOffset(1, func(g Gomega) {
		objs := []client.Object{&rbacv1.ClusterRoleBinding{}}
		if !exist {
			objs = append(objs, &rbacv1.ClusterRole{})
		}
		for _, obj := range objs {
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
		It("creates Elasticsearch, Kibana and Fluentd, owned and labelled, with Fluentd's access confined to the namespace", func() {
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
				ContainSubstring("pos_file /var/lib/littleecom-fluentd/containers.pos"),
				ContainSubstring("@type multi_format"), ContainSubstring("@type kubernetes_metadata"),
				ContainSubstring("watch false"), ContainSubstring("skip_namespace_metadata true"),
				ContainSubstring("overflow_action drop_oldest_chunk")))
			ds := &appsv1.DaemonSet{}
			eventually(ns, name+"-fluentd", ds)
			Expect(ds.Spec.Template.Spec.ServiceAccountName).To(Equal(name + "-fluentd"))
			fc := ds.Spec.Template.Spec.Containers[0]
			Expect(envValue(fc, "FLUENT_ELASTICSEARCH_PASSWORD")).
				To(Equal("secret:" + name + "-elasticsearch-credentials/" + resource.FluentdPasswordKey))
			Expect(fc.VolumeMounts).To(ContainElement(And(
				HaveField("MountPath", "/var/log"), HaveField("ReadOnly", true))), "/var/log is mounted read-only")
			Expect(fc.SecurityContext.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")))
			Expect(fc.SecurityContext.Capabilities.Add).To(BeEmpty())
			Expect(*fc.SecurityContext.AllowPrivilegeEscalation).To(BeFalse())

			By("granting Fluentd get on pods of this namespace only, through a Role")
			role := &rbacv1.Role{}
			eventually(ns, name+"-fluentd", role)
			Expect(role.Rules).To(HaveLen(1))
			Expect(role.Rules[0].Resources).To(ConsistOf("pods"))
			Expect(role.Rules[0].Verbs).To(ConsistOf("get"))
			binding := &rbacv1.RoleBinding{}
			eventually(ns, name+"-fluentd", binding)
			Expect(binding.RoleRef).To(Equal(rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name + "-fluentd"}))
			Expect(binding.Subjects).To(ConsistOf(rbacv1.Subject{Kind: "ServiceAccount", Name: name + "-fluentd", Namespace: ns}))

			By("creating nothing cluster-scoped and holding no finalizer")
			Consistently(func(g Gomega) {
				for _, obj := range []client.Object{&rbacv1.ClusterRole{}, &rbacv1.ClusterRoleBinding{}} {
					err := k8sClient.Get(ctx, client.ObjectKey{Name: clusterRoleName(ns)}, obj)
					g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%T exists", obj)
				}
				g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
				g.Expect(controllerutil.ContainsFinalizer(le, ClusterResourcesFinalizer)).To(BeFalse())
			}, 2*time.Second, interval).Should(Succeed())
		})

		It("puts Fluentd's Role deleted by hand back", func() {
			role := &rbacv1.Role{}
			eventually(ns, name+"-fluentd", role)
			Expect(k8sClient.Delete(ctx, role)).To(Succeed())
			Eventually(func(g Gomega) {
				fresh := &rbacv1.Role{}
				g.Expect(k8sClient.Get(ctx, key(ns, name+"-fluentd"), fresh)).To(Succeed())
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
				before := writes.seen(ns)
				time.Sleep(1500 * time.Millisecond)
				return writes.seen(ns) - before
			}, timeout, 10*time.Millisecond).Should(BeZero())

			before := writes.seen(ns)
			updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Annotations = map[string]string{"test/poke": "1"} })
			Consistently(func() int64 { return writes.seen(ns) - before }, 2*time.Second, interval).Should(BeZero())
		})
	})

	Context("when logging is disabled and enabled again", func() {
		It("removes every object of the stack, then creates it again", func() {
			for k, obj := range loggingChildren() {
				eventually(ns, objName(k), obj)
			}
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
			Expect(k8sClient.Get(ctx, key(ns, name+"-elasticsearch-credentials"), kept)).To(Succeed())
			Expect(kept.Data).To(Equal(creds.Data))
		})
	})

	Context("when two namespaces hold a LittleEcom of the same name", func() {
		It("gives each its own Role, binding and Fluentd host directory", func() {
			other := newNamespace()
			le := newShop(other, name)
			withLogging(le)
			Expect(k8sClient.Create(ctx, le)).To(Succeed())
			dirs := map[string]bool{}
			for _, n := range []string{ns, other} {
				b := &rbacv1.RoleBinding{}
				eventually(n, name+"-fluentd", b)
				Expect(b.Subjects[0].Namespace).To(Equal(n))
				ds := &appsv1.DaemonSet{}
				eventually(n, name+"-fluentd", ds)
				for _, v := range ds.Spec.Template.Spec.Volumes {
					if v.HostPath != nil && strings.HasPrefix(v.HostPath.Path, "/var/lib/littleecom/fluentd/") {
						dirs[v.HostPath.Path] = true
					}
				}
			}
			Expect(dirs).To(HaveLen(2), "each shop keeps its positions and buffer in its own host directory")
		})
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
