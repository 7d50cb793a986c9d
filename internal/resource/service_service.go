package resource

import (
	corev1 "k8s.io/api/core/v1"

	"littleecom.io/littleecom/internal/contract"
)

// ServiceService is the ClusterIP Service `<n>-<component>` in front of a shop service's
// pods: port "http", the public API the edge routes to. The notifier serves no API: its
// Service publishes the management port (health, readiness, metrics) for scrapers instead.
// The API services' management port stays off their Service, so no route can reach it.
func (s *Shop) ServiceService(component string) *ServiceBuilder {
	port := tcpPort(httpPortName, contract.HTTPPort)
	if !servesAPI(component) {
		port = tcpPort(managementPortName, contract.ManagementPort)
	}
	return &ServiceBuilder{shop: s, name: s.Names.Service(component), component: component, ports: []corev1.ServicePort{port}}
}

const (
	// httpPortName names the HTTP port of a shop service's container and Service.
	httpPortName = "http"
	// managementPortName names the port of a shop service's health, readiness and metrics.
	managementPortName = "management"
)

// servesAPI reports whether component answers shoppers on the public HTTP port.
func servesAPI(component string) bool { return component != ComponentNotifier }
