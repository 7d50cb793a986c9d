package controllers

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	networkingv1 "k8s.io/api/networking/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// certificateCRD stands in for cert-manager's Certificate CRD: the operator only asks
// discovery whether cert-manager.io/v1 Certificate is served, so the schema does not matter.
// (cert-manager's own controllers, which would issue the certificate, do not run in envtest.)
func certificateCRD() *apiextensionsv1.CustomResourceDefinition {
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "certificates.cert-manager.io"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "cert-manager.io",
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "certificates", Singular: "certificate",
				Kind: "Certificate", ListKind: "CertificateList"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: new(true),
				}},
			}},
		},
	}
}

// Ordered: the suite's API server starts without cert-manager, and the last spec installs
// its CRD (which stays for the rest of the suite; no other spec depends on its absence).
var _ = Describe("TLS at the edge through cert-manager", Ordered, func() {
	const name = "tls"
	var ns string

	BeforeAll(func() {
		ns = newNamespace()
		le := newShop(ns, name)
		le.Spec.Ingress.Host = "shop.example.com"
		le.Spec.Ingress.CertManager = &shopv1.CertManagerSpec{IssuerName: "letsencrypt-prod", IssuerKind: shopv1.IssuerKindClusterIssuer}
		Expect(k8sClient.Create(ctx, le)).To(Succeed())
	})

	It("refuses certManager without a host, with a readable message", func() {
		le := newShop(ns, "nohost")
		le.Spec.Ingress.CertManager = &shopv1.CertManagerSpec{IssuerName: "letsencrypt-prod"}
		err := k8sClient.Create(ctx, le)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("ingress.certManager needs ingress.host"))
	})

	It("annotates the Ingress for cert-manager and adds the tls section", func() {
		Eventually(func(g Gomega) {
			ing := &networkingv1.Ingress{}
			g.Expect(k8sClient.Get(ctx, key(ns, name), ing)).To(Succeed())
			g.Expect(ing.Annotations).To(HaveKeyWithValue(resource.AnnotationCertManagerClusterIssuer, "letsencrypt-prod"))
			g.Expect(ing.Spec.TLS).To(Equal([]networkingv1.IngressTLS{{Hosts: []string{"shop.example.com"}, SecretName: name + "-tls"}}))
		}, timeout, interval).Should(Succeed())
	})

	It("says in IngressReady that cert-manager is not installed", func() {
		Eventually(func(g Gomega) {
			le := &shopv1.LittleEcom{}
			g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			c := condition(le, shopv1.ConditionIngressReady)
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(ReasonCertManagerNotInstalled))
			g.Expect(c.Message).To(ContainSubstring("ClusterIssuer letsencrypt-prod"))
			g.Expect(c.Message).To(ContainSubstring("install cert-manager"))
		}, timeout, interval).Should(Succeed())
	})

	It("stops saying so once cert-manager's CRDs are installed", func() {
		reconciler.certManager.mu.Lock()
		reconciler.certManager.recheck = 200 * time.Millisecond
		reconciler.certManager.mu.Unlock()
		_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{CRDs: []*apiextensionsv1.CustomResourceDefinition{certificateCRD()}})
		Expect(err).NotTo(HaveOccurred())
		// The shop is looked at again within its recheck interval; a touch makes it now.
		updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Annotations = map[string]string{"test/touch": "1"} })
		Eventually(func(g Gomega) {
			le := &shopv1.LittleEcom{}
			g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			c := condition(le, shopv1.ConditionIngressReady)
			g.Expect(c.Reason).NotTo(Equal(ReasonCertManagerNotInstalled), c.Message)
			g.Expect(c.Message).NotTo(ContainSubstring("cert-manager"))
		}, timeout, interval).Should(Succeed())
	})
})
