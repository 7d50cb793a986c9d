package controllers

import (
	"context"
	"errors"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// reconcileSecrets makes sure every generated credential exists (created once, never
// rotated by a reconcile) and that user-supplied Secrets the spec names are there.
func (r *LittleEcomReconciler) reconcileSecrets(ctx context.Context, st *reconcileState) error {
	s := st.shop
	n, spec := s.Names, s.Instance.Spec
	type generated struct {
		condition string
		builder   resource.Builder
	}
	var builders []generated
	// An external database comes with its own credentials (spec.mongodb.external.secretRef,
	// checked by the mongodb phase): no root, keyfile or per-service users of ours.
	if s.MongoDBExternal() == nil {
		if spec.MongoDB.CredentialsSecretRef == nil {
			builders = append(builders, generated{shopv1.ConditionMongoDBReady,
				s.Credentials(n.MongoDBRootSecret(), resource.ComponentMongoDB, "root")})
		}
		builders = append(builders, generated{shopv1.ConditionMongoDBReady, s.MongoDBKeyfile()})
		for _, component := range resource.ServiceComponents {
			builders = append(builders, generated{serviceConditions[component],
				s.Credentials(n.MongoDBUserSecret(component), component, component)})
		}
	}
	if spec.RabbitMQ.CredentialsSecretRef == nil {
		builders = append(builders, generated{shopv1.ConditionRabbitMQReady,
			s.Credentials(n.RabbitMQAdminSecret(), resource.ComponentRabbitMQ, "admin")})
	}
	builders = append(builders,
		generated{shopv1.ConditionRabbitMQReady, s.RabbitMQErlangCookie()},
		generated{shopv1.ConditionBackendReady, s.Credentials(n.RabbitMQUserSecret(resource.ComponentBackend),
			resource.ComponentBackend, resource.ComponentBackend)},
		generated{shopv1.ConditionNotifierReady, s.Credentials(n.RabbitMQUserSecret(resource.ComponentNotifier),
			resource.ComponentNotifier, resource.ComponentNotifier)},
		generated{shopv1.ConditionAuthReady, s.AuthSigningKey()},
		// The shop's pods run under their own account with no API access.
		generated{shopv1.ConditionBackendReady, s.ServiceAccount()},
	)
	// Auth publishes verification mails; without verification it has no broker user. A
	// Secret generated earlier stays (owned, collected with the shop) and is used again.
	if s.EmailVerification() {
		builders = append(builders, generated{shopv1.ConditionAuthReady,
			s.Credentials(n.RabbitMQUserSecret(resource.ComponentAuth), resource.ComponentAuth, resource.ComponentAuth)})
	}

	var errs []error
	for _, g := range builders {
		obj, err := r.apply(ctx, st, g.builder)
		if err != nil {
			errs = append(errs, st.fail(g.condition, err))
			continue
		}
		st.rememberSecret(obj)
	}

	// User-supplied Secrets must exist and hold the keys we read; say which one is wrong.
	for _, ref := range []struct {
		condition string
		ref       *shopv1.SecretReference
		field     string
	}{
		{shopv1.ConditionMongoDBReady, spec.MongoDB.CredentialsSecretRef, "spec.mongodb.credentialsSecretRef"},
		{shopv1.ConditionRabbitMQReady, spec.RabbitMQ.CredentialsSecretRef, "spec.rabbitmq.credentialsSecretRef"},
		{shopv1.ConditionNotifierReady, spec.Notifier.SMTP.CredentialsSecretRef, "spec.notifier.smtp.credentialsSecretRef"},
	} {
		if ref.ref == nil {
			continue
		}
		data, err := r.secret(ctx, st, ref.ref.Name)
		if c := resource.CredentialsOf(data); err == nil && (c.Username == "" || c.Password == "") {
			err = errors.New("Secret " + ref.ref.Name + " must have the keys username and password")
		}
		if err != nil {
			errs = append(errs, st.fail(ref.condition, errors.New(ref.field+": "+err.Error())))
		}
	}
	return errors.Join(errs...)
}
