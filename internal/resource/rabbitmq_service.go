package resource

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Ports of a RabbitMQ node.
const (
	RabbitMQAMQPPort       = 5672
	RabbitMQManagementPort = 15672
	RabbitMQPrometheusPort = 15692
	RabbitMQEPMDPort       = 4369
	RabbitMQClusterPort    = 25672 // inter-node (distribution) and CLI traffic
)

// RabbitMQService is the clients' Service: AMQP, the management UI/API and metrics.
func (s *Shop) RabbitMQService() *ServiceBuilder {
	return &ServiceBuilder{
		shop: s, name: s.Names.RabbitMQ(), component: ComponentRabbitMQ,
		ports: []corev1.ServicePort{
			tcpPort("amqp", RabbitMQAMQPPort),
			tcpPort("management", RabbitMQManagementPort),
			tcpPort(rabbitMQPrometheusPortName, RabbitMQPrometheusPort),
		},
	}
}

// RabbitMQHeadlessService gives every node the stable DNS name its Erlang node name and the
// peer-discovery list use. It publishes nodes before they are ready: a node that waits for
// its peers at boot must be able to resolve them.
func (s *Shop) RabbitMQHeadlessService() *ServiceBuilder {
	return &ServiceBuilder{
		shop: s, name: s.Names.RabbitMQHeadless(), component: ComponentRabbitMQ, headless: true,
		ports: []corev1.ServicePort{
			tcpPort("epmd", RabbitMQEPMDPort),
			tcpPort("cluster-links", RabbitMQClusterPort),
		},
	}
}

// RabbitMQURL is the broker's AMQP URL (default vhost) without credentials; services read
// their username and password from their own Secret.
func (s *Shop) RabbitMQURL() string {
	return fmt.Sprintf("amqp://%s:%d/", s.Names.ServiceHost(s.Names.RabbitMQ()), RabbitMQAMQPPort)
}

// rabbitMQNodeName is the Erlang node name (RABBITMQ_USE_LONGNAME) of the pod named pod.
func (s *Shop) rabbitMQNodeName(pod string) string {
	return "rabbit@" + pod + "." + s.Names.ServiceHost(s.Names.RabbitMQHeadless())
}
