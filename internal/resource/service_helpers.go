package resource

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ServiceBuilder is a Service in front of one component's pods.
type ServiceBuilder struct {
	shop      *Shop
	name      string
	component string
	ports     []corev1.ServicePort
	// headless Services give each pod a stable DNS name and publish pods before they are
	// ready, so replica-set members and broker nodes can find each other while starting.
	headless bool
}

var _ Builder = (*ServiceBuilder)(nil)

// Build implements Builder.
func (b *ServiceBuilder) Build() client.Object {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: b.name, Namespace: b.shop.Instance.Namespace}}
}

// Update implements Builder.
func (b *ServiceBuilder) Update(obj client.Object) error {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return typeError("Service", obj)
	}
	if err := b.shop.setOwnerAndLabels(svc, b.component); err != nil {
		return err
	}
	if svc.Spec.Type == "" {
		svc.Spec.Type = corev1.ServiceTypeClusterIP
	}
	// clusterIP is immutable and allocated by the API server; only a headless Service sets it.
	if b.headless && svc.Spec.ClusterIP == "" {
		svc.Spec.ClusterIP = corev1.ClusterIPNone
	}
	svc.Spec.PublishNotReadyAddresses = b.headless
	svc.Spec.Selector = SelectorLabels(b.shop.Instance.Name, b.component)
	svc.Spec.Ports = mergePorts(svc.Spec.Ports, b.ports)
	return nil
}

// mergePorts returns want, keeping the nodePort the API server allocated for a port.
func mergePorts(have, want []corev1.ServicePort) []corev1.ServicePort {
	out := make([]corev1.ServicePort, len(want))
	for i, p := range want {
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		for _, h := range have {
			if h.Name == p.Name {
				p.NodePort = h.NodePort
			}
		}
		out[i] = p
	}
	return out
}

func tcpPort(name string, port int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port, TargetPort: intstr.FromString(name), Protocol: corev1.ProtocolTCP}
}
