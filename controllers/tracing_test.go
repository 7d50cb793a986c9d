package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
)

var _ = Describe("LittleEcom tracing", func() {
	const name = "shop"
	var ns string
	BeforeEach(func() {
		ns = newNamespace()
		Expect(k8sClient.Create(ctx, newShop(ns, name))).To(Succeed())
	})

	It("gives every service the collector's OTEL_* environment while spec.tracing names one", func() {
		services := []string{name + "-auth", name + "-backend", name + "-notifier"}
		By("leaving tracing off by default")
		for _, svc := range services {
			cm := &corev1.ConfigMap{}
			eventually(ns, svc, cm)
			Expect(cm.Data).NotTo(HaveKey(contract.EnvOTelEndpoint), svc)
		}

		By("naming a collector and a sampling share")
		updateShop(ns, name, func(le *shopv1.LittleEcom) {
			le.Spec.Tracing = shopv1.TracingSpec{OTLPEndpoint: "http://otel-collector.observability:4318", SamplingPercent: ptr.To[int32](10)}
		})
		for _, svc := range services {
			Eventually(func(g Gomega) {
				cm := &corev1.ConfigMap{}
				g.Expect(k8sClient.Get(ctx, key(ns, svc), cm)).To(Succeed())
				g.Expect(cm.Data).To(HaveKeyWithValue(contract.EnvOTelEndpoint, "http://otel-collector.observability:4318"))
				g.Expect(cm.Data).To(HaveKeyWithValue(contract.EnvOTelProtocol, contract.OTelProtocolHTTPProtobuf))
				g.Expect(cm.Data).To(HaveKeyWithValue(contract.EnvOTelTracesSampler, contract.OTelSamplerParentBasedRatio))
				g.Expect(cm.Data).To(HaveKeyWithValue(contract.EnvOTelTracesSamplerArg, "0.1"))
				g.Expect(cm.Data).To(HaveKeyWithValue(contract.EnvOTelResourceAttributes, "service.namespace=shop,k8s.namespace.name="+ns))
			}, timeout, interval).Should(Succeed(), svc)
		}

		By("turning it off again")
		updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Spec.Tracing = shopv1.TracingSpec{} })
		for _, svc := range services {
			Eventually(func(g Gomega) {
				cm := &corev1.ConfigMap{}
				g.Expect(k8sClient.Get(ctx, key(ns, svc), cm)).To(Succeed())
				for _, k := range []string{contract.EnvOTelEndpoint, contract.EnvOTelProtocol, contract.EnvOTelTracesSampler,
					contract.EnvOTelTracesSamplerArg, contract.EnvOTelResourceAttributes} {
					g.Expect(cm.Data).NotTo(HaveKey(k))
				}
			}, timeout, interval).Should(Succeed(), svc)
		}
	})
})
