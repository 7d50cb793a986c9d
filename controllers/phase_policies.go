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
	var errs []error
	for _, p := range []struct {
		condition string
		builder   resource.Builder
	}{
		{shopv1.ConditionMongoDBReady, s.MongoDBNetworkPolicy()},
		{shopv1.ConditionRabbitMQReady, s.RabbitMQNetworkPolicy()},
		{shopv1.ConditionLoggingReady, s.ElasticsearchNetworkPolicy()},
		{shopv1.ConditionMongoDBReady, s.MongoDBPodDisruptionBudget()},
		{shopv1.ConditionBackendReady, s.ServicePodDisruptionBudget(resource.ComponentBackend)},
		{shopv1.ConditionAuthReady, s.ServicePodDisruptionBudget(resource.ComponentAuth)},
	} {
		if _, err := r.apply(ctx, st, p.builder); err != nil {
			errs = append(errs, st.fail(p.condition, err))
		}
	}
	return errors.Join(errs...)
}
