package resource

import (
	"fmt"
	"slices"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// admitted lists a NetworkPolicy's admissions as "<source> -> <port>" ("all" for every port):
// a source is a component of the shop, "ns:<name>[/<label>=<value>]" for a peer pinned to
// a namespace, or "any" for a rule without peers.
func admitted(t *testing.T, np *networkingv1.NetworkPolicy) []string {
	t.Helper()
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
				ns := from.NamespaceSelector.MatchLabels[namespaceNameLabel]
				if ns == "" || len(from.NamespaceSelector.MatchLabels) != 1 {
					t.Errorf("a namespace peer is not pinned by %s: %v", namespaceNameLabel, from.NamespaceSelector)
				}
				src := "ns:" + ns
				if from.PodSelector != nil && len(from.PodSelector.MatchLabels) > 0 {
					keys := make([]string, 0, len(from.PodSelector.MatchLabels))
					for k, v := range from.PodSelector.MatchLabels {
						keys = append(keys, k+"="+v)
					}
					slices.Sort(keys)
					src += fmt.Sprint("/", keys)
				}
				sources = append(sources, src)
			case from.PodSelector != nil:
				if from.PodSelector.MatchLabels[LabelInstance] != "shop" {
					t.Errorf("a pod peer of another shop: %v", from.PodSelector.MatchLabels)
				}
				sources = append(sources, from.PodSelector.MatchLabels[LabelComponent])
			default:
				t.Errorf("a peer with neither selector (an ipBlock?): %+v", from)
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

// peers maps the shop components a NetworkPolicy admits to the ports they may reach.
func peers(np *networkingv1.NetworkPolicy) map[string][]int32 {
	out := map[string][]int32{}
	for _, rule := range np.Spec.Ingress {
		var ports []int32
		for _, p := range rule.Ports {
			ports = append(ports, p.Port.IntVal)
		}
		for _, from := range rule.From {
			if from.NamespaceSelector == nil && from.PodSelector != nil {
				out[from.PodSelector.MatchLabels[LabelComponent]] = ports
			}
		}
	}
	return out
}

const operatorPeer = "ns:littleecom-system/[app.kubernetes.io/name=littleecom control-plane=controller-manager]"

func TestNetworkPolicies_AdmitExactlyTheShopsFlows(t *testing.T) {
	op := OperatorPeer{Namespace: "littleecom-system"}
	tests := []struct {
		name   string
		mutate func(*shopv1.LittleEcomSpec)
		b      func(*Shop) Builder
		policy string
		target string // the component the policy selects; "" for the whole shop
		want   []string
	}{
		{"default deny", nil, func(s *Shop) Builder { return s.DefaultDenyNetworkPolicy() }, "shop-default-deny", "", nil},
		{"mongodb", nil, func(s *Shop) Builder { return s.MongoDBNetworkPolicy(op) }, "shop-mongodb", ComponentMongoDB,
			[]string{"auth -> 27017", "backend -> 27017", "mongodb -> all", "notifier -> 27017", operatorPeer + " -> 27017"}},
		{"mongodb, operator outside the cluster", nil, func(s *Shop) Builder { return s.MongoDBNetworkPolicy(OperatorPeer{}) },
			"shop-mongodb", ComponentMongoDB,
			[]string{"auth -> 27017", "backend -> 27017", "mongodb -> all", "notifier -> 27017"}},
		{"rabbitmq", nil, func(s *Shop) Builder { return s.RabbitMQNetworkPolicy() }, "shop-rabbitmq", ComponentRabbitMQ,
			[]string{"backend -> 5672", "notifier -> 5672", "rabbitmq -> all"}},
		{"rabbitmq, scraped", func(s *shopv1.LittleEcomSpec) { s.NetworkPolicy.MetricsNamespace = "monitoring" },
			func(s *Shop) Builder { return s.RabbitMQNetworkPolicy() }, "shop-rabbitmq", ComponentRabbitMQ,
			[]string{"backend -> 5672", "notifier -> 5672", "ns:monitoring -> 15692", "rabbitmq -> all"}},
		{"backend, no controller named", nil, func(s *Shop) Builder { return s.ServiceNetworkPolicy(ComponentBackend) },
			"shop-backend", ComponentBackend, []string{"any -> 8080"}},
		{"auth, no controller named", nil, func(s *Shop) Builder { return s.ServiceNetworkPolicy(ComponentAuth) },
			"shop-auth", ComponentAuth, []string{"any -> 8080", "backend -> 8080"}},
		{"notifier", nil, func(s *Shop) Builder { return s.ServiceNetworkPolicy(ComponentNotifier) },
			"shop-notifier", ComponentNotifier, nil},
		{"backend behind a named controller, scraped", func(s *shopv1.LittleEcomSpec) {
			s.NetworkPolicy.IngressControllers = []shopv1.NamespacedPods{{Namespace: "ingress-nginx",
				PodLabels: map[string]string{"app.kubernetes.io/name": "ingress-nginx"}}}
			s.NetworkPolicy.MetricsNamespace = "monitoring"
		}, func(s *Shop) Builder { return s.ServiceNetworkPolicy(ComponentBackend) }, "shop-backend", ComponentBackend,
			[]string{"ns:ingress-nginx/[app.kubernetes.io/name=ingress-nginx] -> 8080", "ns:monitoring -> 8081"}},
		{"notifier, scraped", func(s *shopv1.LittleEcomSpec) { s.NetworkPolicy.MetricsNamespace = "monitoring" },
			func(s *Shop) Builder { return s.ServiceNetworkPolicy(ComponentNotifier) }, "shop-notifier", ComponentNotifier,
			[]string{"ns:monitoring -> 8081"}},
		{"elasticsearch", nil, func(s *Shop) Builder { return s.ElasticsearchNetworkPolicy() },
			"shop-elasticsearch", ComponentElasticsearch, []string{"elasticsearch -> all", "fluentd -> 9200", "kibana -> 9200"}},
		{"kibana, not exposed", nil, func(s *Shop) Builder { return s.KibanaNetworkPolicy() }, "shop-kibana", ComponentKibana, nil},
		{"kibana, exposed behind a named controller", func(s *shopv1.LittleEcomSpec) {
			s.Logging.Kibana.Expose = true
			s.NetworkPolicy.IngressControllers = []shopv1.NamespacedPods{{Namespace: "traefik"}}
		}, func(s *Shop) Builder { return s.KibanaNetworkPolicy() }, "shop-kibana", ComponentKibana,
			[]string{"ns:traefik -> 5601"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := loggingShop(t, tt.mutate)
			np := buildOnce(t, tt.b(s)).(*networkingv1.NetworkPolicy)
			if np.Name != tt.policy || np.Namespace != "ns" || len(np.OwnerReferences) != 1 {
				t.Errorf("policy %s/%s owners %v", np.Namespace, np.Name, np.OwnerReferences)
			}
			if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
				t.Errorf("policy types %v", np.Spec.PolicyTypes)
			}
			sel := np.Spec.PodSelector.MatchLabels
			if sel[LabelInstance] != "shop" || sel[LabelComponent] != tt.target {
				t.Errorf("policy selects %v, want component %q of shop", sel, tt.target)
			}
			if tt.target == "" && (sel[LabelPartOf] != PartOf || len(sel) != 2) {
				t.Errorf("default deny selects %v, want every pod of the shop and nothing else", sel)
			}
			if got := admitted(t, np); !slices.Equal(got, tt.want) {
				t.Errorf("admits %q\n want %q", got, tt.want)
			}
		})
	}
}

// TestDefaultDeny_CoversEveryPodTheShopRuns checks the default-deny selector against the
// pod templates of every workload the shop runs.
func TestDefaultDeny_CoversEveryPodTheShopRuns(t *testing.T) {
	s := loggingShop(t, nil)
	np := buildOnce(t, s.DefaultDenyNetworkPolicy()).(*networkingv1.NetworkPolicy)
	for name, labels := range podTemplateLabels(t, s) {
		for k, v := range np.Spec.PodSelector.MatchLabels {
			if labels[k] != v {
				t.Errorf("%s pods (labels %v) escape the default deny (%s=%s)", name, labels, k, v)
			}
		}
	}
}

func TestNetworkPolicies_EveryShopPodHasAnAllowPolicy(t *testing.T) {
	s := loggingShop(t, nil)
	var selectors []map[string]string
	for _, b := range []Builder{
		s.MongoDBNetworkPolicy(OperatorPeer{}), s.RabbitMQNetworkPolicy(), s.ElasticsearchNetworkPolicy(), s.KibanaNetworkPolicy(),
		s.ServiceNetworkPolicy(ComponentBackend), s.ServiceNetworkPolicy(ComponentAuth), s.ServiceNetworkPolicy(ComponentNotifier),
	} {
		selectors = append(selectors, buildOnce(t, b).(*networkingv1.NetworkPolicy).Spec.PodSelector.MatchLabels)
	}
	for name, labels := range podTemplateLabels(t, s) {
		if name == ComponentFluentd {
			continue // Fluentd serves no one: the default deny is its whole policy.
		}
		found := slices.ContainsFunc(selectors, func(sel map[string]string) bool {
			for k, v := range sel {
				if labels[k] != v {
					return false
				}
			}
			return true
		})
		if !found {
			t.Errorf("no allow policy selects the %s pods", name)
		}
	}
}

func TestPodDisruptionBudgets(t *testing.T) {
	tests := []struct {
		name     string
		replicas *int32
		enabled  bool
	}{
		{"default two replicas", nil, true},
		{"one replica", ptr.To[int32](1), false},
		{"three replicas", ptr.To[int32](3), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestShop(t, func(s *shopv1.LittleEcomSpec) { s.Backend.Replicas = tt.replicas; s.Auth.Replicas = tt.replicas })
			for _, c := range []string{ComponentBackend, ComponentAuth} {
				b := s.ServicePodDisruptionBudget(c)
				if got := b.(Optional).Enabled(); got != tt.enabled {
					t.Errorf("%s PDB enabled = %v, want %v", c, got, tt.enabled)
				}
				pdb := buildOnce(t, b).(*policyv1.PodDisruptionBudget)
				if pdb.Spec.MinAvailable.IntVal != 1 || pdb.Spec.MaxUnavailable != nil ||
					pdb.Spec.Selector.MatchLabels[LabelComponent] != c {
					t.Errorf("%s PDB spec = %+v", c, pdb.Spec)
				}
			}
		})
	}
	pdb := buildOnce(t, newTestShop(t, nil).MongoDBPodDisruptionBudget()).(*policyv1.PodDisruptionBudget)
	assertOwned(t, pdb, "shop-mongodb", ComponentMongoDB)
	if pdb.Spec.MaxUnavailable.IntVal != 1 || pdb.Spec.MinAvailable != nil {
		t.Errorf("mongodb PDB = %+v", pdb.Spec)
	}
}
