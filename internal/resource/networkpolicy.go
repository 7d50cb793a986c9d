package resource

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"littleecom.io/littleecom/internal/contract"
)

// Every shop's pods sit behind a default-deny ingress policy (DefaultDenyNetworkPolicy);
// the component policies below each admit exactly one component's clients. NetworkPolicies
// are additive, so a pod is reachable on a port only where some policy selecting it says so.
// Egress is not restricted: see DefaultDenyNetworkPolicy.

// OperatorPodLabels select the operator's manager pods (config/manager): it connects to
// MongoDB to initiate and reconfigure the replica set and to create users. They are
// matched only in the operator's own namespace (OperatorPeer): `control-plane:
// controller-manager` is every kubebuilder operator's label, and anyone who may create a
// pod anywhere can set it.
var OperatorPodLabels = map[string]string{"control-plane": "controller-manager", LabelName: "littleecom"}

// namespaceNameLabel is set by the API server on every namespace to the namespace's name;
// no one can change it, so it pins a peer to one namespace.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// OperatorPeer is what the policies need to know about the operator's installation, which
// the spec cannot say.
type OperatorPeer struct {
	// Namespace the operator's pods run in; empty when the operator is not a pod of this
	// cluster (the dev runner, tests), so there is no pod to admit.
	Namespace string
}

// peer returns the operator's pods as a policy peer, nil when it runs outside the cluster.
func (o OperatorPeer) peer() *networkingv1.NetworkPolicyPeer {
	if o.Namespace == "" {
		return nil
	}
	p := namespacePeer(o.Namespace, OperatorPodLabels)
	return &p
}

// namespacePeer selects pods with labels (all, when empty) in the namespace named ns.
func namespacePeer(ns string, labels map[string]string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{namespaceNameLabel: ns}},
		PodSelector:       &metav1.LabelSelector{MatchLabels: labels},
	}
}

// ingressRule admits from (any source when nil) on ports.
type ingressRule struct {
	from  []networkingv1.NetworkPolicyPeer
	ports []int32
}

// networkPolicyBuilder admits ingress to one component's pods only by its rules; with
// peers, the component's own pods (replication, clustering) reach every port.
type networkPolicyBuilder struct {
	shop      *Shop
	name      string
	component string
	rules     []ingressRule
	peers     bool
}

func (s *Shop) componentPeer(component string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
		LabelInstance: s.Instance.Name, LabelComponent: component,
	}}}
}

// edgeRule admits the edge (ingress controllers) to ports. Without named controllers the
// ports are open to any source, as they were before default deny: the edge publishes them
// anyway.
func (s *Shop) edgeRule(ports ...int32) ingressRule {
	named := s.Instance.Spec.NetworkPolicy.IngressControllers
	if len(named) == 0 {
		return ingressRule{ports: ports}
	}
	from := make([]networkingv1.NetworkPolicyPeer, 0, len(named))
	for _, c := range named {
		from = append(from, namespacePeer(c.Namespace, c.PodLabels))
	}
	return ingressRule{from: from, ports: ports}
}

// metricsRules admit the scraper namespace to ports, nothing when none is named.
func (s *Shop) metricsRules(ports ...int32) []ingressRule {
	ns := s.Instance.Spec.NetworkPolicy.MetricsNamespace
	if ns == "" {
		return nil
	}
	return []ingressRule{{from: []networkingv1.NetworkPolicyPeer{namespacePeer(ns, nil)}, ports: ports}}
}

// DefaultDenyNetworkPolicy selects every pod of the shop and admits nothing, so that a pod
// is reachable only where a component policy allows it. It selects by the shop's instance
// and part-of labels, not `podSelector: {}`: other workloads in the namespace are not the
// shop's to close.
//
// Only ingress is denied. Egress stays open on purpose: the notifier's SMTP relay is a
// host name (policies match addresses, not names), DNS and the API server sit at addresses
// that differ per cluster, and every destination of the shop's own traffic is already
// guarded by the ingress policy of the pod it reaches.
func (s *Shop) DefaultDenyNetworkPolicy() Builder {
	return &networkPolicyBuilder{shop: s, name: s.Names.prefixed("default-deny")}
}

// MongoDBNetworkPolicy admits the services that use MongoDB (backend, auth, and the notifier,
// which keeps its dedup state there), the other members (replication) and the operator's
// pods in the operator's namespace.
func (s *Shop) MongoDBNetworkPolicy(op OperatorPeer) Builder {
	from := []networkingv1.NetworkPolicyPeer{
		s.componentPeer(ComponentBackend), s.componentPeer(ComponentAuth), s.componentPeer(ComponentNotifier),
	}
	if p := op.peer(); p != nil {
		from = append(from, *p)
	}
	return &networkPolicyBuilder{shop: s, component: ComponentMongoDB, peers: true,
		rules: []ingressRule{{from: from, ports: []int32{MongoDBPort}}}}
}

// RabbitMQNetworkPolicy admits the services that talk AMQP (backend, notifier, and auth when
// it verifies addresses), the other broker nodes (clustering) and the scraper on the
// Prometheus port. The management UI is reachable from no other pod.
func (s *Shop) RabbitMQNetworkPolicy() Builder {
	components := s.rabbitMQClients()
	clients := make([]networkingv1.NetworkPolicyPeer, 0, len(components))
	for _, c := range components {
		clients = append(clients, s.componentPeer(c))
	}
	rules := append([]ingressRule{{from: clients, ports: []int32{RabbitMQAMQPPort}}}, s.metricsRules(RabbitMQPrometheusPort)...)
	return &networkPolicyBuilder{shop: s, component: ComponentRabbitMQ, peers: true, rules: rules}
}

// ServiceNetworkPolicy admits a shop service's clients: the edge to backend's and auth's
// HTTP port, the backend to auth's (it reads auth's signing keys, AuthJWKSURL), and the
// scraper to the management port (metrics). The notifier serves no one but the scraper.
// Probes come from the kubelet on the pod's node, which policies do not restrict.
func (s *Shop) ServiceNetworkPolicy(component string) Builder {
	var rules []ingressRule
	switch component {
	case ComponentBackend:
		rules = append(rules, s.edgeRule(contract.HTTPPort))
	case ComponentAuth:
		rules = append(rules, s.edgeRule(contract.HTTPPort),
			ingressRule{from: []networkingv1.NetworkPolicyPeer{s.componentPeer(ComponentBackend)}, ports: []int32{contract.HTTPPort}})
	}
	rules = append(rules, s.metricsRules(contract.ManagementPort)...)
	return &networkPolicyBuilder{shop: s, component: component, rules: rules}
}

// ElasticsearchNetworkPolicy admits Fluentd and Kibana on HTTP and the other nodes; it
// exists while logging is enabled.
func (s *Shop) ElasticsearchNetworkPolicy() Builder {
	b := &networkPolicyBuilder{shop: s, component: ComponentElasticsearch, peers: true,
		rules: []ingressRule{{
			from:  []networkingv1.NetworkPolicyPeer{s.componentPeer(ComponentFluentd), s.componentPeer(ComponentKibana)},
			ports: []int32{ElasticsearchHTTPPort},
		}}}
	return optional{Builder: b, enabled: s.LoggingEnabled()}
}

// KibanaNetworkPolicy admits the edge to Kibana while the spec exposes it; unexposed, the
// policy admits no one and Kibana is reached through `kubectl port-forward`, which enters
// the pod through the kubelet rather than the pod network.
func (s *Shop) KibanaNetworkPolicy() Builder {
	var rules []ingressRule
	if s.KibanaExposed() {
		rules = append(rules, s.edgeRule(KibanaPort))
	}
	b := &networkPolicyBuilder{shop: s, component: ComponentKibana, rules: rules}
	return optional{Builder: b, enabled: s.LoggingEnabled()}
}

// Build implements Builder.
func (b *networkPolicyBuilder) Build() client.Object {
	name := b.name
	if name == "" {
		name = b.shop.Names.prefixed(b.component)
	}
	return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: b.shop.Instance.Namespace}}
}

// Update implements Builder.
func (b *networkPolicyBuilder) Update(obj client.Object) error {
	np, ok := obj.(*networkingv1.NetworkPolicy)
	if !ok {
		return typeError("NetworkPolicy", obj)
	}
	s := b.shop
	// The default-deny policy belongs to no component; it carries the shop's labels.
	component := b.component
	if component == "" {
		component = "network-policy"
	}
	if err := s.setOwnerAndLabels(np, component); err != nil {
		return err
	}
	tcp := corev1.ProtocolTCP
	var rules []networkingv1.NetworkPolicyIngressRule
	for _, r := range b.rules {
		ports := make([]networkingv1.NetworkPolicyPort, len(r.ports))
		for i, p := range r.ports {
			ports[i] = networkingv1.NetworkPolicyPort{Protocol: &tcp, Port: ptrIntOrString(p)}
		}
		rules = append(rules, networkingv1.NetworkPolicyIngressRule{From: r.from, Ports: ports})
	}
	if b.peers {
		rules = append(rules, networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{s.componentPeer(b.component)}})
	}
	selector := metav1.LabelSelector{MatchLabels: map[string]string{LabelInstance: s.Instance.Name, LabelPartOf: PartOf}}
	if b.component != "" {
		selector = metav1.LabelSelector{MatchLabels: SelectorLabels(s.Instance.Name, b.component)}
	}
	np.Spec = networkingv1.NetworkPolicySpec{
		PodSelector: selector,
		Ingress:     rules,
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
	}
	return nil
}

func ptrIntOrString(p int32) *intstr.IntOrString {
	v := intstr.FromInt32(p)
	return &v
}
