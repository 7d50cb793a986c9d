package controllers

import "context"

// reconcilePolicies keeps the NetworkPolicies and PodDisruptionBudgets.
func (r *LittleEcomReconciler) reconcilePolicies(_ context.Context, _ *reconcileState) error { return nil }
