package resource

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestRabbitMQServices(t *testing.T) {
	s := newTestShop(t, nil)
	tests := []struct {
		name      string
		builder   *ServiceBuilder
		wantName  string
		headless  bool
		wantPorts map[string]int32
	}{
		{"client", s.RabbitMQService(), "shop-rabbitmq", false,
			map[string]int32{"amqp": 5672, "management": 15672, "prometheus": 15692}},
		{"headless", s.RabbitMQHeadlessService(), "shop-rabbitmq-headless", true,
			map[string]int32{"epmd": 4369, "cluster-links": 25672}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := buildOnce(t, tt.builder).(*corev1.Service)
			assertOwned(t, svc, tt.wantName, ComponentRabbitMQ)
			if got := svc.Spec.ClusterIP == corev1.ClusterIPNone; got != tt.headless {
				t.Errorf("clusterIP = %q, headless want %v", svc.Spec.ClusterIP, tt.headless)
			}
			if svc.Spec.PublishNotReadyAddresses != tt.headless {
				t.Errorf("publishNotReadyAddresses = %v, want %v", svc.Spec.PublishNotReadyAddresses, tt.headless)
			}
			if want := SelectorLabels("shop", ComponentRabbitMQ); !equality.Semantic.DeepEqual(svc.Spec.Selector, want) {
				t.Errorf("selector = %v, want %v", svc.Spec.Selector, want)
			}
			if len(svc.Spec.Ports) != len(tt.wantPorts) {
				t.Fatalf("ports = %+v, want %v", svc.Spec.Ports, tt.wantPorts)
			}
			for _, p := range svc.Spec.Ports {
				if tt.wantPorts[p.Name] != p.Port || p.TargetPort != intstr.FromString(p.Name) || p.Protocol != corev1.ProtocolTCP {
					t.Errorf("port %+v, want %s=%d targeting the named container port", p, p.Name, tt.wantPorts[p.Name])
				}
			}
		})
	}
}

func TestRabbitMQServices_TargetPortsExistOnTheContainer(t *testing.T) {
	s := newTestShop(t, nil)
	sts := rmqStatefulSet(t, s)
	named := map[string]int32{}
	for _, p := range sts.Spec.Template.Spec.Containers[0].Ports {
		named[p.Name] = p.ContainerPort
	}
	for _, b := range []*ServiceBuilder{s.RabbitMQService(), s.RabbitMQHeadlessService()} {
		for _, p := range buildOnce(t, b).(*corev1.Service).Spec.Ports {
			if named[p.TargetPort.StrVal] != p.Port {
				t.Errorf("%s: port %s targets %q, container has %v", b.name, p.Name, p.TargetPort.StrVal, named)
			}
		}
	}
}

func TestRabbitMQService_UpdateIsIdempotent(t *testing.T) {
	s := newTestShop(t, nil)
	assertUpdateIsIdempotent(t, s.RabbitMQService())
	assertUpdateIsIdempotent(t, s.RabbitMQHeadlessService())
}

func TestRabbitMQURL(t *testing.T) {
	s := newTestShop(t, nil)
	if got, want := s.RabbitMQURL(), "amqp://shop-rabbitmq.ns.svc.cluster.local:5672/"; got != want {
		t.Errorf("RabbitMQURL() = %q, want %q", got, want)
	}
}
