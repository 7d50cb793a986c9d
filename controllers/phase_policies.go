package controllers

import (
	"context"
	"errors"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// reconcilePolicies keeps the NetworkPolicies and PodDisruptionBudgets.
func (r *LittleEcomReconciler) reconcilePolicies(ctx context.Context, st *reconcileState) error {
	s := st.shop
	type policy struct {
		condition string
		builder   resource.Builder
	}
	var policies []policy
	if s.MongoDBExternal() == nil {
		// An external database has no pods here to protect. (A shop cannot switch to
		// external: nothing of ours can be left to remove.)
		policies = append(policies,
			policy{shopv1.ConditionMongoDBReady, s.MongoDBNetworkPolicy()},
			policy{shopv1.ConditionMongoDBReady, s.MongoDBPodDisruptionBudget()})
	}
	policies = append(policies,
		policy{shopv1.ConditionRabbitMQReady, s.RabbitMQNetworkPolicy()},
		policy{shopv1.ConditionLoggingReady, s.ElasticsearchNetworkPolicy()},
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
