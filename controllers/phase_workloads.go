package controllers

import (
	"context"
	"errors"

	appsv1 "k8s.io/api/apps/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// reconcileMongoDB keeps the members' headless Service and StatefulSet, or checks the
// external database the shop names instead.
func (r *LittleEcomReconciler) reconcileMongoDB(ctx context.Context, st *reconcileState) error {
	s := st.shop
	if ext := s.MongoDBExternal(); ext != nil {
		return r.reconcileExternalMongoDB(ctx, st, ext)
	}
	const cond = shopv1.ConditionMongoDBReady
	if _, err := r.apply(ctx, st, s.MongoDBHeadlessService()); err != nil {
		return st.fail(cond, err)
	}
	if err := r.hashConfig(ctx, st, resource.ComponentMongoDB); err != nil {
		return st.fail(cond, err)
	}
	s.MongoDBStatefulSetReplicas = mongoDBStatefulSetReplicas(s.Instance)
	obj, err := r.apply(ctx, st, s.MongoDBStatefulSet())
	if err != nil {
		return st.fail(cond, err)
	}
	st.statefulSets[resource.ComponentMongoDB] = obj.(*appsv1.StatefulSet)
	return nil
}

// reconcileRabbitMQ keeps the broker: its configuration, the definitions that declare
// users, permissions and the messaging topology, its Services and StatefulSet.
func (r *LittleEcomReconciler) reconcileRabbitMQ(ctx context.Context, st *reconcileState) error {
	s := st.shop
	const cond = shopv1.ConditionRabbitMQReady
	users, err := r.rabbitMQUsers(ctx, st)
	if err != nil {
		return st.fail(cond, err)
	}
	cm, err := r.apply(ctx, st, s.RabbitMQConfigMap())
	if err != nil {
		return st.fail(cond, err)
	}
	st.rememberConfigMap(cm)
	defs, err := r.apply(ctx, st, s.RabbitMQDefinitions(users))
	if err != nil {
		return st.fail(cond, err)
	}
	st.rememberSecret(defs)
	for _, b := range []resource.Builder{s.RabbitMQHeadlessService(), s.RabbitMQService()} {
		if _, err := r.apply(ctx, st, b); err != nil {
			return st.fail(cond, err)
		}
	}
	if err := r.hashConfig(ctx, st, resource.ComponentRabbitMQ); err != nil {
		return st.fail(cond, err)
	}
	obj, err := r.apply(ctx, st, s.RabbitMQStatefulSet())
	if err != nil {
		return st.fail(cond, err)
	}
	st.statefulSets[resource.ComponentRabbitMQ] = obj.(*appsv1.StatefulSet)
	return nil
}

// rabbitMQUsers reads the broker users' credentials from their Secrets.
func (r *LittleEcomReconciler) rabbitMQUsers(ctx context.Context, st *reconcileState) (resource.RabbitMQUsers, error) {
	s := st.shop
	read := func(name string) (resource.Credentials, error) {
		data, err := r.secret(ctx, st, name)
		if err != nil {
			return resource.Credentials{}, err
		}
		return resource.CredentialsOf(data), nil
	}
	var users resource.RabbitMQUsers
	var errs [4]error
	users.Admin, errs[0] = read(s.RabbitMQAdminSecretName())
	users.Backend, errs[1] = read(s.Names.RabbitMQUserSecret(resource.ComponentBackend))
	users.Notifier, errs[2] = read(s.Names.RabbitMQUserSecret(resource.ComponentNotifier))
	if s.EmailVerification() {
		var auth resource.Credentials
		auth, errs[3] = read(s.Names.RabbitMQUserSecret(resource.ComponentAuth))
		users.Auth = &auth
	}
	return users, errors.Join(errs[:]...)
}

// serviceConditions are the conditions of the shop's own services, resource.ServiceComponents.
var serviceConditions = map[string]string{
	resource.ComponentAuth:     shopv1.ConditionAuthReady,
	resource.ComponentBackend:  shopv1.ConditionBackendReady,
	resource.ComponentNotifier: shopv1.ConditionNotifierReady,
}

// reconcileServices keeps auth, backend and notifier: ConfigMap, Deployment and Service each.
func (r *LittleEcomReconciler) reconcileServices(ctx context.Context, st *reconcileState) error {
	var errs []error
	for _, component := range resource.ServiceComponents {
		if err := r.reconcileService(ctx, st, component); err != nil {
			errs = append(errs, st.fail(serviceConditions[component], err))
		}
	}
	return errors.Join(errs...)
}

func (r *LittleEcomReconciler) reconcileService(ctx context.Context, st *reconcileState, component string) error {
	s := st.shop
	cm, err := r.apply(ctx, st, s.ServiceConfigMap(component))
	if err != nil {
		return err
	}
	st.rememberConfigMap(cm)
	if err := r.hashConfig(ctx, st, component); err != nil {
		return err
	}
	obj, err := r.apply(ctx, st, s.ServiceDeployment(component))
	if err != nil {
		return err
	}
	st.deployments[component] = obj.(*appsv1.Deployment)
	_, err = r.apply(ctx, st, s.ServiceService(component))
	return err
}
