package controllers

import (
	"context"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// edgeObservation is what the edge phase (Ingress, HTTPRoute) saw, for status.
type edgeObservation struct{}

// reconcileEdge keeps the Ingress and the Gateway API HTTPRoute.
func (r *LittleEcomReconciler) reconcileEdge(_ context.Context, _ *reconcileState) error { return nil }

// setEdgeStatus sets IngressReady and status.endpoints.api.
func setEdgeStatus(_ *shopv1.LittleEcom, _ *reconcileState) {}

// edgeConditions are the edge's conditions that count towards Ready for this spec.
func edgeConditions(_ *shopv1.LittleEcom) []string { return nil }
