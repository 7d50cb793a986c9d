package resource

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// OperatorPodLabels select the operator's manager pods (config/manager), in whichever
// namespace it is installed: it connects to MongoDB to initiate and reconfigure the replica
// set and to create users.
var OperatorPodLabels = map[string]string{"control-plane": "controller-manager"}

// networkPolicyBuilder admits ingress to one component's pods only from the listed peers.
// Only ingress is restricted: egress (DNS, the API server, SMTP relays) stays open.
type networkPolicyBuilder struct {
	shop      *Shop
	component string
	// clients may reach ports; peers (the component's own pods) reach every port.
	clients []networkingv1.NetworkPolicyPeer
	ports   []int32
}

func (s *Shop) componentPeer(component string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
		LabelInstance: s.Instance.Name, LabelComponent: component,
	}}}
}

// MongoDBNetworkPolicy admits the services that use MongoDB (backend, auth, and the notifier,
// which keeps its dedup state there), the other members (replication) and the operator's
// pods in any namespace (namespaceSelector {} matches every namespace; the operator's
// namespace name is not known to the shop).
func (s *Shop) MongoDBNetworkPolicy() Builder {
	return &networkPolicyBuilder{shop: s, component: ComponentMongoDB,
		ports: []int32{MongoDBPort},
		clients: []networkingv1.NetworkPolicyPeer{
			s.componentPeer(ComponentBackend), s.componentPeer(ComponentAuth), s.componentPeer(ComponentNotifier),
			{NamespaceSelector: &metav1.LabelSelector{}, PodSelector: &metav1.LabelSelector{MatchLabels: OperatorPodLabels}},
		}}
}

// RabbitMQNetworkPolicy admits the services that talk AMQP (backend, notifier, and auth when
// it verifies addresses) and the other broker nodes (clustering). The management UI and
// metrics are not reachable from other pods.
func (s *Shop) RabbitMQNetworkPolicy() Builder {
	components := s.rabbitMQClients()
	clients := make([]networkingv1.NetworkPolicyPeer, 0, len(components))
	for _, c := range components {
		clients = append(clients, s.componentPeer(c))
	}
	return &networkPolicyBuilder{shop: s, component: ComponentRabbitMQ,
		ports: []int32{RabbitMQAMQPPort}, clients: clients}
}

// ElasticsearchNetworkPolicy admits Fluentd and Kibana on HTTP and the other nodes; it
// exists while logging is enabled.
func (s *Shop) ElasticsearchNetworkPolicy() Builder {
	b := &networkPolicyBuilder{shop: s, component: ComponentElasticsearch,
		ports:   []int32{ElasticsearchHTTPPort},
		clients: []networkingv1.NetworkPolicyPeer{s.componentPeer(ComponentFluentd), s.componentPeer(ComponentKibana)}}
	return optional{Builder: b, enabled: s.LoggingEnabled()}
}

// Build implements Builder.
func (b *networkPolicyBuilder) Build() client.Object {
	return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{
		Name: b.shop.Names.prefixed(b.component), Namespace: b.shop.Instance.Namespace,
	}}
}

// Update implements Builder.
func (b *networkPolicyBuilder) Update(obj client.Object) error {
	np, ok := obj.(*networkingv1.NetworkPolicy)
	if !ok {
		return typeError("NetworkPolicy", obj)
	}
	if err := b.shop.setOwnerAndLabels(np, b.component); err != nil {
		return err
	}
	tcp := corev1.ProtocolTCP
	ports := make([]networkingv1.NetworkPolicyPort, len(b.ports))
	for i, p := range b.ports {
		ports[i] = networkingv1.NetworkPolicyPort{Protocol: &tcp, Port: ptrIntOrString(p)}
	}
	rules := []networkingv1.NetworkPolicyIngressRule{
		{From: b.clients, Ports: ports},
		{From: []networkingv1.NetworkPolicyPeer{b.shop.componentPeer(b.component)}},
	}
	np.Spec = networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchLabels: SelectorLabels(b.shop.Instance.Name, b.component)},
		Ingress:     rules,
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
	}
	return nil
}

func ptrIntOrString(p int32) *intstr.IntOrString {
	v := intstr.FromInt32(p)
	return &v
}
