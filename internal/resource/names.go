// Package resource builds the child objects of a LittleEcom, one builder per object.
//
// A builder's Build returns the named, empty object; Update sets every field that must
// converge (owner reference included) one by one, so that API-server defaults survive and an
// unchanged shop needs no write. Builders make no API calls.
package resource

import (
	"fmt"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/mongors"
)

// Component names, used in object names and in the app.kubernetes.io/component label.
const (
	ComponentMongoDB       = "mongodb"
	ComponentRabbitMQ      = "rabbitmq"
	ComponentBackend       = "backend"
	ComponentAuth          = "auth"
	ComponentNotifier      = "notifier"
	ComponentIngress       = "ingress"
	ComponentElasticsearch = "elasticsearch"
	ComponentKibana        = "kibana"
	ComponentFluentd       = "fluentd"
)

// Names derives every child's name from the LittleEcom's name.
type Names struct {
	Instance  string
	Namespace string
}

func (n Names) prefixed(suffix string) string { return n.Instance + "-" + suffix }

// MongoDB returns the StatefulSet name, also the pods' name prefix.
func (n Names) MongoDB() string { return n.prefixed(ComponentMongoDB) }

// MongoDBHeadless returns the headless Service that gives members stable DNS names.
func (n Names) MongoDBHeadless() string { return n.prefixed("mongodb-headless") }

// MongoDBRootSecret holds the root user's credentials.
func (n Names) MongoDBRootSecret() string { return n.prefixed("mongodb-root") }

// MongoDBKeyfileSecret holds the replica-set keyfile.
func (n Names) MongoDBKeyfileSecret() string { return n.prefixed("mongodb-keyfile") }

// MongoDBUserSecret holds the MongoDB credentials of one service.
func (n Names) MongoDBUserSecret(service string) string {
	return n.prefixed("mongodb-" + service)
}

// MongoDBMemberHost is the stable address (host:port) of member i, as the replica-set
// config names it.
func (n Names) MongoDBMemberHost(i int) string {
	return mongors.Topology{Name: n.Instance, Namespace: n.Namespace}.Host(i)
}

// RabbitMQ returns the StatefulSet and client Service name.
func (n Names) RabbitMQ() string { return n.prefixed(ComponentRabbitMQ) }

// RabbitMQHeadless gives broker nodes stable DNS names for clustering.
func (n Names) RabbitMQHeadless() string { return n.prefixed("rabbitmq-headless") }

// RabbitMQAdminSecret holds the administrator's credentials.
func (n Names) RabbitMQAdminSecret() string { return n.prefixed("rabbitmq-admin") }

// RabbitMQErlangCookieSecret holds the cookie the nodes share.
func (n Names) RabbitMQErlangCookieSecret() string { return n.prefixed("rabbitmq-erlang-cookie") }

// RabbitMQUserSecret holds the AMQP credentials of one service.
func (n Names) RabbitMQUserSecret(service string) string {
	return n.prefixed("rabbitmq-" + service)
}

// RabbitMQConfig is the ConfigMap with rabbitmq.conf and enabled_plugins.
func (n Names) RabbitMQConfig() string { return n.prefixed("rabbitmq-config") }

// RabbitMQDefinitions is the Secret with definitions.json (it holds password hashes).
func (n Names) RabbitMQDefinitions() string { return n.prefixed("rabbitmq-definitions") }

// Service returns the Deployment, Service and ConfigMap name of a shop service.
func (n Names) Service(component string) string { return n.prefixed(component) }

// AuthSigningKeySecret holds the token-signing key.
func (n Names) AuthSigningKeySecret() string { return n.prefixed("auth-signing-key") }

// Ingress is the Ingress name: the instance name itself.
func (n Names) Ingress() string { return n.Instance }

// ServiceAccount is the service account of the shop's pods (no API access).
func (n Names) ServiceAccount() string { return n.Instance }

// ServiceHost is the cluster DNS name of the Service (or, under a headless Service, the
// pod) named service in the shop's namespace.
func (n Names) ServiceHost(service string) string {
	return fmt.Sprintf("%s.%s.svc.cluster.local", service, n.Namespace)
}

// ServiceComponents are the shop's own services, in start order.
var ServiceComponents = []string{ComponentAuth, ComponentBackend, ComponentNotifier}

// DatabaseOf is the MongoDB database a service works in: its ConfigMap names it and its
// user may read and write only there.
func DatabaseOf(component string) string {
	switch component {
	case ComponentBackend:
		return contract.DatabaseBackend
	case ComponentAuth:
		return contract.DatabaseAuth
	case ComponentNotifier:
		return contract.DatabaseNotifier
	}
	return ""
}
