package resource

import (
	corev1 "k8s.io/api/core/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
)

// A shop with spec.mongodb.external uses a MongoDB it does not run: no StatefulSet, headless
// Service, generated MongoDB Secrets, NetworkPolicy or PodDisruptionBudget exist for it, and
// the services read the connection from the user's Secret.

// MongoDBExternal is spec.mongodb.external, nil when the operator runs the replica set.
func (s *Shop) MongoDBExternal() *shopv1.ExternalMongoDBSpec {
	return s.Instance.Spec.MongoDB.External
}

// ExternalMongoDBURIKey is the key of the external Secret that holds the connection string.
func ExternalMongoDBURIKey(ext *shopv1.ExternalMongoDBSpec) string {
	return stringOr(ext.URIKey, contract.SecretKeyURI)
}

// externalMongoDBEnv is the services' connection to an external MongoDB, all by
// secretKeyRef: the URI may carry credentials, so it never goes into a ConfigMap. username
// and password are optional keys; absent, the URI's credentials (or none) are used.
func externalMongoDBEnv(ext *shopv1.ExternalMongoDBSpec) []corev1.EnvVar {
	name := ext.SecretRef.Name
	return []corev1.EnvVar{
		secretEnv(contract.EnvMongoURI, name, ExternalMongoDBURIKey(ext)),
		optionalSecretEnv(contract.EnvMongoUsername, name, contract.SecretKeyUsername),
		optionalSecretEnv(contract.EnvMongoPassword, name, contract.SecretKeyPassword),
	}
}

func optionalSecretEnv(name, secret, key string) corev1.EnvVar {
	env := secretEnv(name, secret, key)
	env.ValueFrom.SecretKeyRef.Optional = new(true)
	return env
}
