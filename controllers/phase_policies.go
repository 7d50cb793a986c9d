package controllers

import (
	"context"
	"errors"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// reconcilePolicies keeps the NetworkPolicies and PodDisruptionBudgets. The default-deny
// policy comes first, and every component's allow policy with it in the same pass, so that
// a shop is closed and opened again within one reconcile, never left open.
func (r *LittleEcomReconciler) reconcilePolicies(ctx context.Context, st *reconcileState) error {
	s := st.shop
	admin := r.adminSettings()
	type policy struct {
		condition string
		builder   resource.Builder
	}
	policies := []policy{
		// No component owns the default deny: a failure to apply it fails the reconcile,
		// and so Ready.
		{shopv1.ConditionReady, s.DefaultDenyNetworkPolicy()},
		{shopv1.ConditionBackendReady, s.ServiceNetworkPolicy(resource.ComponentBackend)},
		{shopv1.ConditionAuthReady, s.ServiceNetworkPolicy(resource.ComponentAuth)},
		{shopv1.ConditionNotifierReady, s.ServiceNetworkPolicy(resource.ComponentNotifier)},
	}
	if s.MongoDBExternal() == nil {
		// An external database has no pods here to protect. (A shop cannot switch to
		// external: nothing of ours can be left to remove.)
		policies = append(policies,
			policy{shopv1.ConditionMongoDBReady, s.MongoDBNetworkPolicy(admin.Operator)},
			policy{shopv1.ConditionMongoDBReady, s.MongoDBPodDisruptionBudget()})
	}
	policies = append(policies,
		policy{shopv1.ConditionRabbitMQReady, s.RabbitMQNetworkPolicy()},
		policy{shopv1.ConditionLoggingReady, s.ElasticsearchNetworkPolicy()},
		policy{shopv1.ConditionLoggingReady, s.KibanaNetworkPolicy()},
		policy{shopv1.ConditionBackendReady, s.ServicePodDisruptionBudget(resource.ComponentBackend)},
		policy{shopv1.ConditionAuthReady, s.ServicePodDisruptionBudget(resource.ComponentAuth)},
	)
	var errs []error
	for _, p := range policies {
		if _, err := r.apply(ctx, st, p.builder); err != nil {
			errs = append(errs, st.fail(p.condition, err))
		}
	}
	return errors.Join(errs...)
}
