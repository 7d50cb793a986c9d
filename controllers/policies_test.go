package controllers

import (
	"fmt"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// admissions reads a stored NetworkPolicy as "<source> -> <port>" lines: a shop component,
// "ns:<name>" (plus "+pods" when pod labels narrow it) for a peer pinned to a namespace by
// kubernetes.io/metadata.name, "any" for a rule without peers; "all" for every port.
func admissions(np *networkingv1.NetworkPolicy) []string {
	var out []string
	for _, rule := range np.Spec.Ingress {
		ports := []string{"all"}
		if len(rule.Ports) > 0 {
			ports = nil
			for _, p := range rule.Ports {
				ports = append(ports, p.Port.String())
			}
		}
		sources := []string{"any"}
		if len(rule.From) > 0 {
			sources = nil
		}
		for _, from := range rule.From {
			switch {
			case from.NamespaceSelector != nil:
				src := "ns:" + from.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]
				if len(from.NamespaceSelector.MatchLabels) != 1 {
					src += fmt.Sprintf("(unpinned %v)", from.NamespaceSelector.MatchLabels)
				}
				if from.PodSelector != nil && len(from.PodSelector.MatchLabels) > 0 {
					src += "+pods"
				}
				sources = append(sources, src)
			case from.PodSelector != nil:
				sources = append(sources, from.PodSelector.MatchLabels[resource.LabelComponent])
			default:
				sources = append(sources, "unexpected peer")
			}
		}
		for _, s := range sources {
			for _, p := range ports {
				out = append(out, s+" -> "+p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// policy fetches NetworkPolicy ns/name.
func policy(ns, name string) *networkingv1.NetworkPolicy {
	np := &networkingv1.NetworkPolicy{}
	EventuallyWithOffset(1, func() error { return k8sClient.Get(ctx, key(ns, name), np) }, timeout, interval).Should(Succeed())
	return np
}

// withAdminSettings runs the rest of the spec with the administrator's settings a, as an
// operator restarted with other flags would, and restores the suite's afterwards.
func withAdminSettings(a AdminSettings) {
	before := reconciler.adminSettings()
	reconciler.SetAdminSettings(a)
	DeferCleanup(func() { reconciler.SetAdminSettings(before) })
}

var _ = Describe("LittleEcom NetworkPolicies", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	It("closes every pod of the shop by default and admits exactly the flows the shop needs", func() {
		withAdminSettings(AdminSettings{Operator: resource.OperatorPeer{Namespace: "littleecom-system"}})
		const name = "pol"
		Expect(k8sClient.Create(ctx, newShop(ns, name))).To(Succeed())

		deny := policy(ns, name+"-default-deny")
		Expect(deny.Spec.PodSelector.MatchLabels).To(Equal(map[string]string{
			resource.LabelInstance: name, resource.LabelPartOf: resource.PartOf}))
		Expect(deny.Spec.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress))
		Expect(deny.Spec.Ingress).To(BeEmpty())

		for policyName, want := range map[string][]string{
			"mongodb":  {"auth -> 27017", "backend -> 27017", "mongodb -> all", "notifier -> 27017", "ns:littleecom-system+pods -> 27017"},
			"rabbitmq": {"backend -> 5672", "notifier -> 5672", "rabbitmq -> all"},
			"backend":  {"any -> 8080"},
			"auth":     {"any -> 8080", "backend -> 8080"},
			"notifier": nil,
		} {
			np := policy(ns, name+"-"+policyName)
			Expect(np.Spec.PodSelector.MatchLabels).To(Equal(resource.SelectorLabels(name, policyName)))
			Expect(admissions(np)).To(Equal(want), "policy %s", policyName)
		}
		mongo := policy(ns, name+"-mongodb")
		for _, rule := range mongo.Spec.Ingress {
			for _, from := range rule.From {
				if from.NamespaceSelector != nil {
					Expect(from.PodSelector.MatchLabels).To(Equal(resource.OperatorPodLabels),
						"the operator is admitted by its pods' labels in its own namespace only")
				}
			}
		}
		for _, gone := range []string{"elasticsearch", "kibana"} {
			Expect(apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, name+"-"+gone), &networkingv1.NetworkPolicy{}))).
				To(BeTrue(), "no %s policy while logging is off", gone)
		}
	})

	It("admits the named ingress controllers, the scraper's namespace and, exposed, Kibana", func() {
		const name = "named"
		le := newShop(ns, name)
		le.Spec.NetworkPolicy = shopv1.NetworkPolicySpec{
			IngressControllers: []shopv1.NamespacedPods{{Namespace: "ingress-nginx",
				PodLabels: map[string]string{"app.kubernetes.io/name": "ingress-nginx"}}},
			MetricsNamespace: "monitoring",
		}
		le.Spec.Logging.Enabled = true
		Expect(k8sClient.Create(ctx, le)).To(Succeed())

		for policyName, want := range map[string][]string{
			"backend":       {"ns:ingress-nginx+pods -> 8080", "ns:monitoring -> 8081"},
			"auth":          {"backend -> 8080", "ns:ingress-nginx+pods -> 8080", "ns:monitoring -> 8081"},
			"notifier":      {"ns:monitoring -> 8081"},
			"rabbitmq":      {"backend -> 5672", "notifier -> 5672", "ns:monitoring -> 15692", "rabbitmq -> all"},
			"elasticsearch": {"elasticsearch -> all", "fluentd -> 9200", "kibana -> 9200"},
			"kibana":        nil,
		} {
			Expect(admissions(policy(ns, name+"-"+policyName))).To(Equal(want), "policy %s", policyName)
		}

		By("exposing Kibana on the Ingress, with TLS")
		updateShop(ns, name, func(le *shopv1.LittleEcom) {
			le.Spec.Ingress.TLSSecretName = "shop-tls"
			le.Spec.Logging.Kibana.Expose = true
		})
		Eventually(func() []string { return admissions(policy(ns, name+"-kibana")) }, timeout, interval).
			Should(Equal([]string{"ns:ingress-nginx+pods -> 5601"}))

		By("forgetting the scraper's namespace")
		updateShop(ns, name, func(le *shopv1.LittleEcom) { le.Spec.NetworkPolicy.MetricsNamespace = "" })
		Eventually(func() []string { return admissions(policy(ns, name+"-notifier")) }, timeout, interval).Should(BeEmpty())
	})

	It("puts a default-deny policy deleted or opened by hand back", func() {
		const name = "closed"
		Expect(k8sClient.Create(ctx, newShop(ns, name))).To(Succeed())
		deny := policy(ns, name+"-default-deny")
		deny.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}} // one empty rule admits everything
		Expect(k8sClient.Update(ctx, deny)).To(Succeed())
		Eventually(func() []networkingv1.NetworkPolicyIngressRule { return policy(ns, name+"-default-deny").Spec.Ingress },
			timeout, interval).Should(BeEmpty())

		Expect(k8sClient.Delete(ctx, deny)).To(Succeed())
		Eventually(func(g Gomega) {
			fresh := &networkingv1.NetworkPolicy{}
			g.Expect(k8sClient.Get(ctx, key(ns, name+"-default-deny"), fresh)).To(Succeed())
			g.Expect(fresh.UID).NotTo(Equal(deny.UID))
		}, timeout, interval).Should(Succeed())
	})

	It("keeps PodDisruptionBudgets, and drops a service's budget at one replica", func() {
		const name = "pdb"
		Expect(k8sClient.Create(ctx, newShop(ns, name))).To(Succeed())
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
