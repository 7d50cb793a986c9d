package resource

import (
	corev1 "k8s.io/api/core/v1"

	"littleecom.io/littleecom/internal/contract"
)

// ServiceService is the ClusterIP Service `<n>-<component>` in front of a shop service's
// pods, port "http". The notifier has one too, for its metrics and probes.
func (s *Shop) ServiceService(component string) *ServiceBuilder {
	return &ServiceBuilder{
		shop: s, name: s.Names.Service(component), component: component,
		ports: []corev1.ServicePort{tcpPort(httpPortName, contract.HTTPPort)},
	}
}

// httpPortName names the HTTP port of a shop service's container and Service.
const httpPortName = "http"
