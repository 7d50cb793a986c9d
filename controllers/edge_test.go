package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
)

// markIngressAddress plays the ingress controller: it publishes a load-balancer address.
func markIngressAddress(ns, name, ip string) {
	EventuallyWithOffset(1, func() error {
		ing := &networkingv1.Ingress{}
		if err := k8sClient.Get(ctx, key(ns, name), ing); err != nil {
			return err
		}
		ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: ip}}
		return k8sClient.Status().Update(ctx, ing)
	}, timeout, interval).Should(Succeed())
}

// eventsWithReason lists the events recorded in ns with reason.
func eventsWithReason(g Gomega, ns, reason string) []eventsv1.Event {
	list := &eventsv1.EventList{}
	g.Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

var _ = Describe("LittleEcom edge", func() {
	var ns string
	const name = "shop"

	BeforeEach(func() { ns = newNamespace() })

	Context("with the default spec", func() {
		BeforeEach(func() { Expect(k8sClient.Create(ctx, newShop(ns, name))).To(Succeed()) })

		It("creates an nginx Ingress routing /auth to auth and / to the backend, with the CORS annotations", func() {
			le := &shopv1.LittleEcom{}
			eventually(ns, name, le)
			ing := &networkingv1.Ingress{}
			eventually(ns, name, ing)
			Expect(ownedBy(ing, le)).To(BeTrue())
			Expect(ing.Labels).To(HaveKeyWithValue("app.kubernetes.io/component", "ingress"))
			Expect(ptr.Deref(ing.Spec.IngressClassName, "")).To(Equal("nginx"))
			Expect(ing.Spec.TLS).To(BeEmpty())
			Expect(ing.Spec.Rules).To(HaveLen(1))
			paths := ing.Spec.Rules[0].HTTP.Paths
			Expect(paths).To(HaveLen(2))
			Expect(paths[0].Path).To(Equal("/auth"))
			Expect(paths[0].Backend.Service.Name).To(Equal(name + "-auth"))
			Expect(paths[1].Path).To(Equal("/"))
			Expect(paths[1].Backend.Service.Name).To(Equal(name + "-backend"))
			for _, p := range paths {
				Expect(*p.PathType).To(Equal(networkingv1.PathTypePrefix))
				Expect(p.Backend.Service.Port.Name).To(Equal("http"))
			}
			Expect(ing.Annotations).To(And(
				HaveKeyWithValue("nginx.ingress.kubernetes.io/enable-cors", "true"),
				HaveKeyWithValue("nginx.ingress.kubernetes.io/cors-allow-origin", "*"),
				HaveKeyWithValue("nginx.ingress.kubernetes.io/cors-allow-methods", "GET, PUT, POST, DELETE, PATCH, OPTIONS"),
				HaveKeyWithValue("nginx.ingress.kubernetes.io/cors-allow-credentials", "false"),
				HaveKeyWithValue("nginx.ingress.kubernetes.io/cors-max-age", "86400"),
				HaveKey("nginx.ingress.kubernetes.io/cors-allow-headers"),
			))

			By("saying once, in an event and in IngressReady, that ingress-nginx is retired")
			Eventually(func(g Gomega) {
				g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
				c := condition(le, shopv1.ConditionIngressReady)
				g.Expect(c).NotTo(BeNil())
				g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
				g.Expect(c.Reason).To(Equal(shopv1.ReasonWaitingForAddress))
				g.Expect(c.Message).To(And(ContainSubstring("ingress-nginx is retired"), ContainSubstring("spec.gateway")))
				g.Expect(eventsWithReason(g, ns, eventIngressNginxRetired)).To(HaveLen(1))
			}, timeout, interval).Should(Succeed())
			updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Spec.Backend.Replicas = ptr.To[int32](3) })
			Consistently(func(g Gomega) {
				g.Expect(eventsWithReason(g, ns, eventIngressNginxRetired)).To(HaveLen(1))
			}, "1s", interval).Should(Succeed())
		})

		It("reports IngressReady and the API URL once the Ingress controller publishes an address", func() {
			updateShop(ns, name, func(le *shopv1.LittleEcom) {
				le.Spec.Ingress.Host = "shop.example.com"
				le.Spec.Ingress.TLSSecretName = "shop-tls"
			})
			Eventually(func(g Gomega) {
				ing := &networkingv1.Ingress{}
				g.Expect(k8sClient.Get(ctx, key(ns, name), ing)).To(Succeed())
				g.Expect(ing.Spec.Rules[0].Host).To(Equal("shop.example.com"))
				g.Expect(ing.Spec.TLS).To(ConsistOf(networkingv1.IngressTLS{Hosts: []string{"shop.example.com"}, SecretName: "shop-tls"}))
			}, timeout, interval).Should(Succeed())

			markIngressAddress(ns, name, "192.0.2.10")
			le := &shopv1.LittleEcom{}
			Eventually(func(g Gomega) {
				g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
				c := condition(le, shopv1.ConditionIngressReady)
				g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
				g.Expect(c.Message).To(And(ContainSubstring("192.0.2.10"), ContainSubstring("ingress-nginx is retired")))
				g.Expect(le.Status.Endpoints.API).To(Equal("https://shop.example.com/"))
			}, timeout, interval).Should(Succeed())
		})
	})

	Context("when the Ingress is switched off and on again", func() {
		It("deletes the Ingress, lets the services answer CORS, and creates it again", func() {
			Expect(k8sClient.Create(ctx, newShop(ns, name))).To(Succeed())
			first := &networkingv1.Ingress{}
			eventually(ns, name, first)

			updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Spec.Ingress.Enabled = new(false) })
			Eventually(func(g Gomega) {
				// envtest has no garbage collector: the Ingress is gone because the operator deleted it.
				err := k8sClient.Get(ctx, key(ns, name), &networkingv1.Ingress{})
				g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "Ingress still there: %v", err)
				cm := &corev1.ConfigMap{}
				g.Expect(k8sClient.Get(ctx, key(ns, name+"-backend"), cm)).To(Succeed())
				g.Expect(cm.Data[contract.EnvCORSEnabled]).To(Equal("true"))
				le := &shopv1.LittleEcom{}
				g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
				c := condition(le, shopv1.ConditionIngressReady)
				g.Expect(c.Reason).To(Equal(shopv1.ReasonDisabled))
				g.Expect(le.Status.ReadyComponents).To(HaveSuffix("/6"), "a disabled edge does not count")
				g.Expect(le.Status.Endpoints.API).To(BeEmpty())
			}, timeout, interval).Should(Succeed())

			updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Spec.Ingress.Enabled = new(true) })
			Eventually(func(g Gomega) {
				again := &networkingv1.Ingress{}
				g.Expect(k8sClient.Get(ctx, key(ns, name), again)).To(Succeed())
				g.Expect(again.UID).NotTo(Equal(first.UID))
				le := &shopv1.LittleEcom{}
				g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
				g.Expect(le.Status.ReadyComponents).To(HaveSuffix("/7"))
			}, timeout, interval).Should(Succeed())
		})
	})

	Context("when spec.gateway is set but the Gateway API CRDs are not installed", func() {
		It("says so in IngressReady and keeps the rest of the shop running", func() {
			le := newShop(ns, name)
			le.Spec.Ingress.Enabled = new(false)
			le.Spec.Gateway = &shopv1.GatewaySpec{ParentRefs: []shopv1.GatewayParentRef{{Name: "public"}}}
			Expect(k8sClient.Create(ctx, le)).To(Succeed())
			Eventually(func(g Gomega) {
				g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
				c := condition(le, shopv1.ConditionIngressReady)
				g.Expect(c).NotTo(BeNil())
				g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
				g.Expect(c.Reason).To(Equal(shopv1.ReasonGatewayAPINotInstalled))
				g.Expect(c.Message).To(ContainSubstring("no Gateway API CRDs"))
				g.Expect(le.Status.ReadyComponents).To(HaveSuffix("/7"))
			}, timeout, interval).Should(Succeed())
			eventually(ns, name+"-backend", &appsv1.Deployment{})
			Expect(k8sClient.Get(ctx, key(ns, name), &gatewayv1.HTTPRoute{})).NotTo(Succeed())
		})
	})
})
