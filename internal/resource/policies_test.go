package resource

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// peers returns the components (or "operator") a NetworkPolicy's rules admit, with ports.
func peers(np *networkingv1.NetworkPolicy) map[string][]int32 {
	out := map[string][]int32{}
	for _, rule := range np.Spec.Ingress {
		var ports []int32
		for _, p := range rule.Ports {
			ports = append(ports, p.Port.IntVal)
		}
		for _, from := range rule.From {
			switch {
			case from.NamespaceSelector != nil && from.PodSelector.MatchLabels["control-plane"] == "controller-manager":
				out["operator"] = ports
			case from.PodSelector != nil:
				out[from.PodSelector.MatchLabels[LabelComponent]] = ports
			}
		}
	}
	return out
}

func TestNetworkPolicies(t *testing.T) {
	s := loggingShop(t, nil)
	tests := []struct {
		name   string
		b      Builder
		target string
		want   map[string][]int32
	}{
		{"mongodb", s.MongoDBNetworkPolicy(), ComponentMongoDB, map[string][]int32{
			ComponentBackend: {27017}, ComponentAuth: {27017}, ComponentNotifier: {27017}, "operator": {27017}, ComponentMongoDB: nil}},
		{"rabbitmq", s.RabbitMQNetworkPolicy(), ComponentRabbitMQ, map[string][]int32{
			ComponentBackend: {5672}, ComponentNotifier: {5672}, ComponentRabbitMQ: nil}},
		{"elasticsearch", s.ElasticsearchNetworkPolicy(), ComponentElasticsearch, map[string][]int32{
			ComponentFluentd: {9200}, ComponentKibana: {9200}, ComponentElasticsearch: nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			np := buildOnce(t, tt.b).(*networkingv1.NetworkPolicy)
			assertOwned(t, np, "shop-"+tt.target, tt.target)
			if np.Spec.PodSelector.MatchLabels[LabelComponent] != tt.target {
				t.Errorf("policy selects %v", np.Spec.PodSelector.MatchLabels)
			}
			got := peers(np)
			if len(got) != len(tt.want) {
				t.Errorf("peers = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				p, ok := got[k]
				if !ok || len(p) != len(v) || (len(v) > 0 && p[0] != v[0]) {
					t.Errorf("peer %s: ports %v (present %v), want %v", k, p, ok, v)
				}
			}
		})
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
