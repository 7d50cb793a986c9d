package gatewaytest

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// gatewayShop is a shop served only through Gateways, with credentialed CORS.
func gatewayShop(ns, name string) *shopv1.LittleEcom {
	le := &shopv1.LittleEcom{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	le.Spec.Ingress.Enabled = new(false)
	le.Spec.Ingress.CORS = shopv1.CORSSpec{
		AllowOrigins:     []shopv1.Origin{"https://shop.example.com", "https://admin.example.com"},
		AllowCredentials: true,
	}
	le.Spec.Gateway = &shopv1.GatewaySpec{
		ParentRefs: []shopv1.GatewayParentRef{{Name: "public"}, {Name: "edge", Namespace: "infra", SectionName: "https"}},
		Hostnames:  []string{"shop.example.com"},
	}
	return le
}

// acceptRoute plays a Gateway controller: every parent accepts the route and resolves its refs.
func acceptRoute(ns, name string) {
	EventuallyWithOffset(1, func() error {
		route := &gatewayv1.HTTPRoute{}
		if err := k8sClient.Get(ctx, key(ns, name), route); err != nil {
			return err
		}
		route.Status.Parents = nil
		for _, ref := range route.Spec.ParentRefs {
			ps := gatewayv1.RouteParentStatus{ParentRef: ref, ControllerName: "example.com/gateway-controller"}
			for _, t := range []gatewayv1.RouteConditionType{gatewayv1.RouteConditionAccepted, gatewayv1.RouteConditionResolvedRefs} {
				meta.SetStatusCondition(&ps.Conditions, metav1.Condition{Type: string(t), Status: metav1.ConditionTrue,
					Reason: string(t), ObservedGeneration: route.Generation})
			}
			route.Status.Parents = append(route.Status.Parents, ps)
		}
		return k8sClient.Status().Update(ctx, route)
	}, timeout, interval).Should(Succeed())
}

var _ = Describe("LittleEcom with the Gateway API installed", func() {
	const name = "shop"
	var ns string
	BeforeEach(func() {
		ns = newNamespace()
		Expect(k8sClient.Create(ctx, gatewayShop(ns, name))).To(Succeed())
	})

	It("creates an HTTPRoute with the shop's rules and the CORS filter, and leaves it alone when nothing changes", func() {
		route := &gatewayv1.HTTPRoute{}
		Eventually(func() error { return k8sClient.Get(ctx, key(ns, name), route) }, timeout, interval).Should(Succeed())
		Expect(route.OwnerReferences).To(ConsistOf(HaveField("Kind", "LittleEcom")))
		Expect(route.Spec.ParentRefs).To(HaveLen(2))
		Expect(route.Spec.ParentRefs[1].Name).To(BeEquivalentTo("edge"))
		Expect(ptr.Deref(route.Spec.ParentRefs[1].Namespace, "")).To(BeEquivalentTo("infra"))
		Expect(ptr.Deref(route.Spec.ParentRefs[1].SectionName, "")).To(BeEquivalentTo("https"))
		Expect(route.Spec.Hostnames).To(ConsistOf(gatewayv1.Hostname("shop.example.com")))

		Expect(route.Spec.Rules).To(HaveLen(2))
		for i, want := range []struct{ prefix, service string }{{"/auth", name + "-auth"}, {"/", name + "-backend"}} {
			rule := route.Spec.Rules[i]
			Expect(rule.Matches).To(HaveLen(1))
			Expect(*rule.Matches[0].Path.Type).To(Equal(gatewayv1.PathMatchPathPrefix))
			Expect(*rule.Matches[0].Path.Value).To(Equal(want.prefix))
			Expect(rule.BackendRefs).To(HaveLen(1))
			Expect(rule.BackendRefs[0].Name).To(BeEquivalentTo(want.service))
			Expect(rule.Filters).To(HaveLen(1))
			cors := rule.Filters[0].CORS
			Expect(rule.Filters[0].Type).To(Equal(gatewayv1.HTTPRouteFilterCORS))
			Expect(cors.AllowOrigins).To(Equal([]gatewayv1.CORSOrigin{"https://shop.example.com", "https://admin.example.com"}))
			Expect(*cors.AllowCredentials).To(BeTrue())
			Expect(cors.AllowMethods).To(ContainElements(gatewayv1.HTTPMethodWithWildcard("GET"), gatewayv1.HTTPMethodWithWildcard("DELETE")))
			Expect(cors.AllowHeaders).To(ContainElement(gatewayv1.HTTPHeaderName("Authorization")))
			Expect(cors.MaxAge).To(BeEquivalentTo(86400))
		}

		By("poking the shop: the stored route equals the built one, so nothing is written")
		Eventually(func(g Gomega) {
			le := &shopv1.LittleEcom{}
			g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			le.Annotations = map[string]string{"test/poke": "1"}
			g.Expect(k8sClient.Update(ctx, le)).To(Succeed())
		}, timeout, interval).Should(Succeed())
		Consistently(func(g Gomega) {
			fresh := &gatewayv1.HTTPRoute{}
			g.Expect(k8sClient.Get(ctx, key(ns, name), fresh)).To(Succeed())
			g.Expect(fresh.ResourceVersion).To(Equal(route.ResourceVersion))
		}, "2s", interval).Should(Succeed())
	})

	It("reports IngressReady and the API URL once the Gateways accept the route", func() {
		le := &shopv1.LittleEcom{}
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			c := meta.FindStatusCondition(le.Status.Conditions, shopv1.ConditionIngressReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(shopv1.ReasonWaitingForGateway))
		}, timeout, interval).Should(Succeed())

		acceptRoute(ns, name)
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			c := meta.FindStatusCondition(le.Status.Conditions, shopv1.ConditionIngressReady)
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(c.Message).To(ContainSubstring("accepted by Gateway " + ns + "/public, infra/edge"))
			g.Expect(c.Message).NotTo(ContainSubstring("ingress-nginx"))
			g.Expect(le.Status.Endpoints.API).To(Equal("http://shop.example.com/"))
		}, timeout, interval).Should(Succeed())
	})

	It("puts back a route deleted by hand, and deletes it when spec.gateway is removed", func() {
		route := &gatewayv1.HTTPRoute{}
		Eventually(func() error { return k8sClient.Get(ctx, key(ns, name), route) }, timeout, interval).Should(Succeed())
		Expect(k8sClient.Delete(ctx, route)).To(Succeed())
		Eventually(func(g Gomega) {
			fresh := &gatewayv1.HTTPRoute{}
			g.Expect(k8sClient.Get(ctx, key(ns, name), fresh)).To(Succeed())
			g.Expect(fresh.UID).NotTo(Equal(route.UID))
		}, timeout, interval).Should(Succeed())

		Eventually(func(g Gomega) {
			le := &shopv1.LittleEcom{}
			g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			le.Spec.Gateway = nil
			g.Expect(k8sClient.Update(ctx, le)).To(Succeed())
		}, timeout, interval).Should(Succeed())
		Eventually(func(g Gomega) {
			// envtest has no garbage collector: gone means the operator deleted it.
			err := k8sClient.Get(ctx, key(ns, name), &gatewayv1.HTTPRoute{})
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "HTTPRoute still there: %v", err)
			le := &shopv1.LittleEcom{}
			g.Expect(k8sClient.Get(ctx, key(ns, name), le)).To(Succeed())
			g.Expect(meta.FindStatusCondition(le.Status.Conditions, shopv1.ConditionIngressReady).Reason).
				To(Equal(shopv1.ReasonDisabled))
		}, timeout, interval).Should(Succeed())
	})
})
