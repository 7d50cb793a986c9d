package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// monitoringObservation is what the monitoring phase saw, for MonitoringReady.
type monitoringObservation struct {
	// operatorMissing: spec.monitoring asks for monitors the cluster cannot serve.
	operatorMissing bool
	// applied names the monitors as stored ("ServiceMonitor littleecom-rabbitmq").
	applied []string
}

// reconcileMonitoring keeps the ServiceMonitors and PodMonitors spec.monitoring asks for
// and removes them when it no longer does. Without the Prometheus Operator's CRDs there
// is nothing to keep or remove: MonitoringReady says so (when asked for) and the shop is
// looked at again to pick up CRDs installed later. That is no error to back off on.
func (r *LittleEcomReconciler) reconcileMonitoring(ctx context.Context, st *reconcileState) error {
	const cond = shopv1.ConditionMonitoringReady
	wanted := st.shop.MonitoringEnabled()
	if !r.prometheusOperator.Installed(ctx) {
		if wanted {
			st.monitoring.operatorMissing = true
			st.requeue(r.prometheusOperator.recheckInterval())
		}
		return nil
	}
	var errs []error
	for _, b := range st.shop.Monitors() {
		obj, err := r.apply(ctx, st, b) // deletes it when spec.monitoring is unset
		if err != nil {
			errs = append(errs, st.fail(cond, err))
		} else if obj != nil {
			st.monitoring.applied = append(st.monitoring.applied, kindOf(obj)+" "+obj.GetName())
		}
	}
	return errors.Join(errs...)
}

// setMonitoringStatus sets MonitoringReady while spec.monitoring is set and removes it
// otherwise: a shop that never asked for monitors carries no condition about them (and an
// operator upgrade writes nothing to its status).
func setMonitoringStatus(shop *shopv1.LittleEcom, st *reconcileState) {
	failure := st.failures[shopv1.ConditionMonitoringReady]
	if shop.Spec.Monitoring == nil && failure == nil {
		meta.RemoveStatusCondition(&shop.Status.Conditions, shopv1.ConditionMonitoringReady)
		return
	}
	monitoringCondition(shop.Spec.Monitoring != nil, st.monitoring, failure).apply(shop, shopv1.ConditionMonitoringReady)
}

// monitoringCondition derives MonitoringReady. It is True once every monitor exists: the
// Prometheus that selects them reports on its own targets, which the operator cannot see.
func monitoringCondition(wanted bool, obs monitoringObservation, failure error) conditionStatus {
	switch {
	case failure != nil && !wanted:
		return conditionStatus{metav1.ConditionFalse, shopv1.ReasonReconcileFailed, "removing the monitors: " + safeMessage(failure)}
	case failure != nil:
		return conditionStatus{metav1.ConditionFalse, shopv1.ReasonReconcileFailed, safeMessage(failure)}
	case obs.operatorMissing:
		return conditionStatus{metav1.ConditionFalse, shopv1.ReasonPrometheusOperatorNotInstalled,
			"spec.monitoring asks for ServiceMonitors and PodMonitors, but this cluster has no Prometheus Operator CRDs " +
				"(monitoring.coreos.com/v1 ServiceMonitor and PodMonitor): install the Prometheus Operator " +
				"(e.g. kube-prometheus-stack) and the monitors are created, or remove spec.monitoring. The shop itself is not affected"}
	case len(obs.applied) == 0:
		return conditionStatus{metav1.ConditionUnknown, shopv1.ReasonProgressing, "monitors not created yet"}
	}
	return conditionStatus{metav1.ConditionTrue, shopv1.ReasonReady,
		fmt.Sprintf("%s exist; a Prometheus selecting their labels scrapes the shop", strings.Join(obs.applied, ", "))}
}
