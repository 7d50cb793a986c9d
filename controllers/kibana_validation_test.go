package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	networkingv1 "k8s.io/api/networking/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

var _ = Describe("Kibana on the edge", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	const plainHTTPRefused = "logging.kibana.expose publishes a sign-in page for the elastic superuser and needs TLS"

	DescribeTable("the API server refuses Kibana on the edge without TLS, unless the spec says so",
		func(specYAML string, accepted bool) {
			err := k8sClient.Create(ctx, unstructuredShop(ns, "kibana", specYAML))
			if accepted {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(plainHTTPRefused))
		},
		Entry("exposed over plain HTTP", "logging: {enabled: true, kibana: {expose: true}}", false),
		Entry("exposed with the Ingress disabled", "ingress: {enabled: false, tlsSecretName: tls}\nlogging: {enabled: true, kibana: {expose: true}}", false),
		Entry("exposed with a certificate Secret", "ingress: {tlsSecretName: shop-tls}\nlogging: {enabled: true, kibana: {expose: true}}", true),
		Entry("exposed with cert-manager", "ingress: {host: shop.example.com, certManager: {issuerName: letsencrypt}}\nlogging: {enabled: true, kibana: {expose: true}}", true),
		Entry("exposed over plain HTTP on purpose", "logging: {enabled: true, kibana: {expose: true, allowPlainHTTP: true}}", true),
		Entry("not exposed (the default)", "logging: {enabled: true}", true),
	)

	It("refuses to drop TLS from a shop whose Kibana is exposed", func() {
		Expect(k8sClient.Create(ctx, unstructuredShop(ns, "tls", "ingress: {tlsSecretName: shop-tls}\nlogging: {enabled: true, kibana: {expose: true}}"))).To(Succeed())
		le := &shopv1.LittleEcom{}
		Expect(k8sClient.Get(ctx, key(ns, "tls"), le)).To(Succeed())
		le.Spec.Ingress.TLSSecretName = ""
		err := k8sClient.Update(ctx, le)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring(plainHTTPRefused))
	})

	DescribeTable("the API server refuses network policy peers that are no namespace names",
		func(specYAML, message string) {
			err := k8sClient.Create(ctx, unstructuredShop(ns, "peers", specYAML))
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("a metrics namespace with capitals", "networkPolicy: {metricsNamespace: Monitoring}", "networkPolicy.metricsNamespace"),
		Entry("an ingress controller without namespace", "networkPolicy: {ingressControllers: [{podLabels: {a: b}}]}", "namespace: Required value"),
	)

	It("leaves Kibana off the Ingress by default and publishes it, and its URL, when exposed", func() {
		const name = "kib"
		le := newShop(ns, name)
		le.Spec.Ingress.Host = "shop.example.com"
		le.Spec.Ingress.TLSSecretName = "shop-tls"
		withLogging(le)
		Expect(k8sClient.Create(ctx, le)).To(Succeed())
		ingressPaths := func() []string {
			ing := &networkingv1.Ingress{}
			if err := k8sClient.Get(ctx, key(ns, name), ing); err != nil {
				return nil
			}
			var paths []string
			for _, p := range ing.Spec.Rules[0].HTTP.Paths {
				paths = append(paths, p.Path)
			}
			return paths
		}
		markIngressAddress(ns, name, "192.0.2.10")
		Eventually(ingressPaths, timeout, interval).Should(ConsistOf("/auth", "/"))
		Consistently(ingressPaths, "1s", interval).ShouldNot(ContainElement(resource.KibanaPath))
		Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
		Expect(le.Status.Endpoints.Kibana).To(BeEmpty())

		updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Spec.Logging.Kibana.Expose = true })
		Eventually(ingressPaths, timeout, interval).Should(ConsistOf("/auth", resource.KibanaPath, "/"))
		Eventually(func() string {
			le := &shopv1.LittleEcom{}
			Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			return le.Status.Endpoints.Kibana
		}, timeout, interval).Should(Equal("https://shop.example.com/kibana/"))
	})
})
