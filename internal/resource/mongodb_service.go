package resource

import corev1 "k8s.io/api/core/v1"

// MongoDBPort is mongod's port.
const MongoDBPort = 27017

// MongoDBHeadlessService gives every member the stable DNS name the replica-set config uses.
func (s *Shop) MongoDBHeadlessService() *ServiceBuilder {
	return &ServiceBuilder{
		shop: s, name: s.Names.MongoDBHeadless(), component: ComponentMongoDB, headless: true,
		ports: []corev1.ServicePort{tcpPort("mongodb", MongoDBPort)},
	}
}
