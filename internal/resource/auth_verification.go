package resource

import (
	"errors"
	"strings"

	"littleecom.io/littleecom/internal/contract"
)

// EmailVerification reports whether auth verifies new accounts' addresses
// (spec.auth.emailVerification). Only then does auth publish to RabbitMQ: it gets a broker
// user, that user's Secret, the AMQP settings and a way through the broker's NetworkPolicy.
func (s *Shop) EmailVerification() bool { return s.Instance.Spec.Auth.EmailVerification }

// AuthPublicURL is the base URL verification links start with: spec.auth.publicURL, else
// the Ingress's host (https when it has a TLS Secret), without a trailing slash. It is ""
// when neither gives one; the CRD refuses emailVerification then.
func (s *Shop) AuthPublicURL() string {
	spec := s.Instance.Spec
	if u := string(spec.Auth.PublicURL); u != "" {
		return strings.TrimSuffix(u, "/")
	}
	host := spec.Ingress.Host
	if !IngressEnabled(spec) || host == "" || strings.HasPrefix(host, "*") {
		return ""
	}
	return IngressScheme(spec.Ingress) + "://" + host
}

// errNoPublicURL is what the auth ConfigMap's builder says when verification is on but the
// spec gives no public URL (a CRD applied without its validation rules).
var errNoPublicURL = errors.New("spec.auth.emailVerification needs spec.auth.publicURL " +
	"or spec.ingress.host (not a wildcard) for its links")

// authVerificationEnv is auth's verification settings: off, or on with the link's base URL
// and the broker it publishes the mails to (its credentials come by secretKeyRef).
func (s *Shop) authVerificationEnv(env map[string]string) error {
	if !s.EmailVerification() {
		env[contract.EnvAuthEmailVerification] = envFalse
		return nil
	}
	public := s.AuthPublicURL()
	if public == "" {
		return errNoPublicURL
	}
	env[contract.EnvAuthEmailVerification] = "true"
	env[contract.EnvAuthPublicURL] = public
	env[contract.EnvAMQPURL] = s.RabbitMQURL()
	return nil
}

// rabbitMQClients are the services that talk AMQP in this shop: backend and notifier
// always, auth when it verifies addresses.
func (s *Shop) rabbitMQClients() []string {
	clients := []string{ComponentBackend, ComponentNotifier}
	if s.EmailVerification() {
		clients = append(clients, ComponentAuth)
	}
	return clients
}
