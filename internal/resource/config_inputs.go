package resource

import shopv1 "littleecom.io/littleecom/api/v1"

// ConfigInputs lists the Secrets and ConfigMaps a workload's pods read (by env or volume).
// The reconciler hashes their data into ConfigHashes so that a change rolls the workload.
type ConfigInputs struct {
	Secrets    []string
	ConfigMaps []string
}

// ConfigInputs returns what component's pods read: a core or a logging component.
func (s *Shop) ConfigInputs(component string) ConfigInputs {
	n, spec := s.Names, s.Instance.Spec
	switch component {
	case ComponentMongoDB:
		if s.MongoDBExternal() != nil {
			return ConfigInputs{}
		}
		return ConfigInputs{Secrets: []string{n.MongoDBKeyfileSecret(), s.MongoDBRootSecretName()}}
	case ComponentRabbitMQ:
		return ConfigInputs{
			Secrets:    []string{s.RabbitMQAdminSecretName(), n.RabbitMQErlangCookieSecret(), n.RabbitMQDefinitions()},
			ConfigMaps: []string{n.RabbitMQConfig()},
		}
	case ComponentBackend:
		return ConfigInputs{
			Secrets:    []string{s.serviceMongoDBSecret(ComponentBackend), n.RabbitMQUserSecret(ComponentBackend)},
			ConfigMaps: []string{n.Service(ComponentBackend)},
		}
	case ComponentAuth:
		in := ConfigInputs{
			Secrets:    []string{s.serviceMongoDBSecret(ComponentAuth), n.AuthSigningKeySecret()},
			ConfigMaps: []string{n.Service(ComponentAuth)},
		}
		if s.EmailVerification() {
			in.Secrets = append(in.Secrets, n.RabbitMQUserSecret(ComponentAuth))
		}
		return in
	case ComponentNotifier:
		in := ConfigInputs{
			Secrets:    []string{s.serviceMongoDBSecret(ComponentNotifier), n.RabbitMQUserSecret(ComponentNotifier)},
			ConfigMaps: []string{n.Service(ComponentNotifier)},
		}
		if ref := spec.Notifier.SMTP.CredentialsSecretRef; ref != nil {
			in.Secrets = append(in.Secrets, ref.Name)
		}
		return in
	case ComponentElasticsearch:
		return ConfigInputs{Secrets: []string{n.ElasticsearchCredentialsSecret(), n.ElasticsearchTransportSecret()}}
	case ComponentKibana:
		return ConfigInputs{Secrets: []string{n.ElasticsearchCredentialsSecret()}}
	case ComponentFluentd:
		return ConfigInputs{Secrets: []string{n.ElasticsearchCredentialsSecret()}, ConfigMaps: []string{n.Fluentd()}}
	}
	return ConfigInputs{}
}

// serviceMongoDBSecret is the Secret with a service's MongoDB connection: its generated
// user, or the external database's Secret.
func (s *Shop) serviceMongoDBSecret(component string) string {
	if ext := s.MongoDBExternal(); ext != nil {
		return ext.SecretRef.Name
	}
	return s.Names.MongoDBUserSecret(component)
}

// RabbitMQAdminSecretName is the user's admin Secret when given, else the generated one.
func (s *Shop) RabbitMQAdminSecretName() string {
	if ref := s.Instance.Spec.RabbitMQ.CredentialsSecretRef; ref != nil {
		return ref.Name
	}
	return s.Names.RabbitMQAdminSecret()
}

// UserSecretNames lists the Secrets the shop's spec names (credentialsSecretRef, the
// external MongoDB's secretRef): the user's own, which the operator reads but does not manage.
func UserSecretNames(shop *shopv1.LittleEcom) []string {
	var names []string
	var external *shopv1.SecretReference
	if ext := shop.Spec.MongoDB.External; ext != nil {
		external = &ext.SecretRef
	}
	for _, ref := range []*shopv1.SecretReference{
		external,
		shop.Spec.MongoDB.CredentialsSecretRef,
		shop.Spec.RabbitMQ.CredentialsSecretRef,
		shop.Spec.Notifier.SMTP.CredentialsSecretRef,
	} {
		if ref != nil {
			names = append(names, ref.Name)
		}
	}
	return names
}
