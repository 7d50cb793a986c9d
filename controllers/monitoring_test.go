package controllers

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	networkingv1 "k8s.io/api/networking/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/resource"
)

// monitorCRD stands in for the Prometheus Operator's ServiceMonitor or PodMonitor CRD. The
// real CRDs are thousands of lines of schema, and the Prometheus Operator (which would turn
// the monitors into scrape configs) does not run in envtest; the operator needs only that
// discovery serves monitoring.coreos.com/v1 and that the API server stores what it writes,
// so an open schema (x-kubernetes-preserve-unknown-fields) is enough. The field names the
// builders write are the Prometheus Operator's (internal/resource/monitors.go).
func monitorCRD(gvk schema.GroupVersionKind, plural string) *apiextensionsv1.CustomResourceDefinition {
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + gvk.Group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: gvk.Group,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: plural, Kind: gvk.Kind, ListKind: gvk.Kind + "List"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: gvk.Version, Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: new(true),
				}},
			}},
		},
	}
}

// monitor reads a monitor of the shop as the API server stores it.
func monitor(gvk schema.GroupVersionKind, ns, name string) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u, k8sClient.Get(ctx, key(ns, name), u)
}

// wantMonitors are the shop's monitors: kind by component.
var wantMonitors = map[string]schema.GroupVersionKind{
	resource.ComponentRabbitMQ: resource.ServiceMonitorGVK,
	resource.ComponentNotifier: resource.ServiceMonitorGVK,
	resource.ComponentBackend:  resource.PodMonitorGVK,
	resource.ComponentAuth:     resource.PodMonitorGVK,
}

// Ordered: the suite's API server starts without the Prometheus Operator's CRDs, and a
// spec below installs them (they stay for the rest of the suite; no other spec depends on
// their absence).
var _ = Describe("Prometheus Operator monitors (spec.monitoring)", Ordered, func() {
	const name = "mon"
	var ns string

	BeforeAll(func() {
		ns = newNamespace()
		le := newShop(ns, name)
		le.Spec.Monitoring = &shopv1.MonitoringSpec{Labels: map[string]shopv1.LabelValue{"release": "kube-prometheus-stack"}, Interval: "30s"}
		le.Spec.NetworkPolicy.MetricsNamespace = "monitoring"
		Expect(k8sClient.Create(ctx, le)).To(Succeed())
	})

	It("refuses labels and intervals a monitor could not carry, with a readable message", func() {
		for _, tc := range []struct {
			spec shopv1.MonitoringSpec
			msg  string
		}{
			{shopv1.MonitoringSpec{Labels: map[string]shopv1.LabelValue{"app.kubernetes.io/name": "x"}}, "cannot set app.kubernetes.io/ labels"},
			{shopv1.MonitoringSpec{Labels: map[string]shopv1.LabelValue{"not a key": "x"}}, "monitoring.labels keys must be label keys"},
			{shopv1.MonitoringSpec{Labels: map[string]shopv1.LabelValue{"release": "not a value"}}, "spec.monitoring.labels.release"},
			{shopv1.MonitoringSpec{Interval: "5 minutes"}, "spec.monitoring.interval"},
		} {
			le := newShop(ns, "bad")
			le.Spec.Monitoring = &tc.spec
			err := k8sClient.Create(ctx, le)
			Expect(err).To(HaveOccurred(), "%+v", tc.spec)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), err.Error())
			Expect(err.Error()).To(ContainSubstring(tc.msg))
		}
	})

	It("says PrometheusOperatorNotInstalled while the CRDs are absent, and reconciles the rest without error", func() {
		Eventually(func(g Gomega) {
			le := &shopv1.LittleEcom{}
			g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			c := condition(le, shopv1.ConditionMonitoringReady)
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(shopv1.ReasonPrometheusOperatorNotInstalled))
			g.Expect(c.Message).To(ContainSubstring("install the Prometheus Operator"))
			// observedGeneration moves only when every phase succeeded: nothing failed.
			g.Expect(le.Status.ObservedGeneration).To(Equal(le.Generation))
			// MonitoringReady does not count towards Ready: 6 core conditions and the Ingress.
			g.Expect(le.Status.ReadyComponents).To(HaveSuffix("/7"))
		}, timeout, interval).Should(Succeed())
	})

	It("admits the metrics namespace to every port a monitor scrapes", func() {
		ports := map[string]int32{
			resource.ComponentRabbitMQ: resource.RabbitMQPrometheusPort,
			resource.ComponentBackend:  contract.ManagementPort,
			resource.ComponentAuth:     contract.ManagementPort,
			resource.ComponentNotifier: contract.ManagementPort,
		}
		for component, port := range ports {
			Eventually(func(g Gomega) {
				np := &networkingv1.NetworkPolicy{}
				g.Expect(k8sClient.Get(ctx, key(ns, name+"-"+component), np)).To(Succeed())
				g.Expect(admitsNamespace(np, "monitoring", port)).To(BeTrue(),
					"NetworkPolicy %s does not admit namespace monitoring to port %d: %+v", np.Name, port, np.Spec.Ingress)
			}, timeout, interval).Should(Succeed())
		}
	})

	It("creates the monitors, owned by the shop, once the CRDs are installed", func() {
		reconciler.prometheusOperator.mu.Lock()
		reconciler.prometheusOperator.recheck = 200 * time.Millisecond
		reconciler.prometheusOperator.mu.Unlock()
		_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{CRDs: []*apiextensionsv1.CustomResourceDefinition{
			monitorCRD(resource.ServiceMonitorGVK, "servicemonitors"), monitorCRD(resource.PodMonitorGVK, "podmonitors"),
		}})
		Expect(err).NotTo(HaveOccurred())
		// The shop is looked at again within the recheck interval it asked for; a touch makes it now.
		updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Annotations = map[string]string{"test/touch": "1"} })

		le := &shopv1.LittleEcom{}
		Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
		for component, gvk := range wantMonitors {
			Eventually(func(g Gomega) {
				u, err := monitor(gvk, ns, name+"-"+component)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(ownedBy(u, le)).To(BeTrue(), "%s %s has no controller reference to the shop", gvk.Kind, u.GetName())
				g.Expect(u.GetLabels()).To(HaveKeyWithValue("release", "kube-prometheus-stack"))
				g.Expect(u.GetLabels()).To(HaveKeyWithValue(resource.LabelComponent, component))
				sel, _, _ := unstructured.NestedStringMap(u.Object, "spec", "selector", "matchLabels")
				g.Expect(sel).To(Equal(resource.SelectorLabels(name, component)))
			}, timeout, interval).Should(Succeed())
		}
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			c := condition(le, shopv1.ConditionMonitoringReady)
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
			g.Expect(c.Message).To(ContainSubstring("PodMonitor " + name + "-backend"))
		}, timeout, interval).Should(Succeed())
	})

	It("puts a monitor deleted by hand back", func() {
		u, err := monitor(resource.PodMonitorGVK, ns, name+"-auth")
		Expect(err).NotTo(HaveOccurred())
		Expect(k8sClient.Delete(ctx, u)).To(Succeed())
		Eventually(func(g Gomega) {
			back, err := monitor(resource.PodMonitorGVK, ns, name+"-auth")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(back.GetUID()).NotTo(Equal(u.GetUID()))
		}, timeout, interval).Should(Succeed())
	})

	It("deletes the monitors and the condition when spec.monitoring is removed", func() {
		updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Spec.Monitoring = nil })
		for component, gvk := range wantMonitors {
			Eventually(func() bool {
				_, err := monitor(gvk, ns, name+"-"+component)
				return apierrors.IsNotFound(err)
			}, timeout, interval).Should(BeTrue(), "%s %s-%s still exists", gvk.Kind, name, component)
		}
		Eventually(func(g Gomega) {
			le := &shopv1.LittleEcom{}
			g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			g.Expect(le.Status.ObservedGeneration).To(Equal(le.Generation))
			g.Expect(condition(le, shopv1.ConditionMonitoringReady).Status).To(BeEmpty())
		}, timeout, interval).Should(Succeed())
	})
})

// admitsNamespace says whether np lets every pod of namespace ns reach port.
func admitsNamespace(np *networkingv1.NetworkPolicy, ns string, port int32) bool {
	for _, rule := range np.Spec.Ingress {
		portOK := len(rule.Ports) == 0
		for _, p := range rule.Ports {
			portOK = portOK || p.Port.IntVal == port
		}
		for _, from := range rule.From {
			if portOK && from.NamespaceSelector != nil &&
				from.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] == ns &&
				(from.PodSelector == nil || len(from.PodSelector.MatchLabels) == 0) {
				return true
			}
		}
	}
	return false
}
