package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// conditionStatus is what a setter decides for one condition.
type conditionStatus struct {
	status  metav1.ConditionStatus
	reason  string
	message string
}

// msgNotCreated is the message of a component whose workload does not exist yet.
const msgNotCreated = "not created yet"

func (c conditionStatus) apply(shop *shopv1.LittleEcom, conditionType string) {
	meta.SetStatusCondition(&shop.Status.Conditions, metav1.Condition{
		Type: conditionType, Status: c.status, Reason: c.reason, Message: c.message,
		ObservedGeneration: shop.Generation,
	})
}

// coreConditions are the per-component conditions of every shop.
var coreConditions = []string{
	shopv1.ConditionMongoDBReady,
	shopv1.ConditionReplicaSetInitialized,
	shopv1.ConditionRabbitMQReady,
	shopv1.ConditionAuthReady,
	shopv1.ConditionBackendReady,
	shopv1.ConditionNotifierReady,
}

// componentConditions are the conditions that make up Ready: the core ones plus those of
// the optional components the spec enables. A disabled component's condition says so
// (reason Disabled) and does not count.
func componentConditions(shop *shopv1.LittleEcom) []string {
	out := append([]string(nil), coreConditions...)
	if shop.Spec.MongoDB.External != nil {
		// The replica set is not the operator's: ReplicaSetInitialized says so and does not count.
		out = slices.DeleteFunc(out, func(t string) bool { return t == shopv1.ConditionReplicaSetInitialized })
	}
	out = append(out, edgeConditions(shop)...)
	return append(out, loggingConditions(shop)...)
}

// computeStatus derives the whole status from what the reconcile observed. succeeded says
// whether every phase ran without error; only then is observedGeneration advanced.
func computeStatus(shop *shopv1.LittleEcom, st *reconcileState, succeeded bool) {
	spec := shop.Spec
	meta.RemoveStatusCondition(&shop.Status.Conditions, shopv1.ConditionPaused) // resumed
	mongoDBCondition(shop, st).apply(shop, shopv1.ConditionMongoDBReady)
	replicaSetCondition(st.replicaSet, st.failures[shopv1.ConditionReplicaSetInitialized]).
		apply(shop, shopv1.ConditionReplicaSetInitialized)
	statefulSetCondition(st.statefulSets[resource.ComponentRabbitMQ], st.failures[shopv1.ConditionRabbitMQReady]).
		apply(shop, shopv1.ConditionRabbitMQReady)
	for _, component := range resource.ServiceComponents {
		condition := serviceConditions[component]
		cs := deploymentCondition(st.deployments[component], st.failures[condition])
		if component == resource.ComponentNotifier && spec.Notifier.SMTP.Host == "" && cs.status == metav1.ConditionTrue {
			cs.reason = shopv1.ReasonSMTPNotConfigured
			cs.message = "running, but spec.notifier.smtp.host is empty: e-mails wait in the queue until a relay is configured"
		}
		cs.apply(shop, condition)
	}
	setEdgeStatus(shop, st)
	setImagesStatus(shop, st)
	setLoggingStatus(shop, st)
	setMonitoringStatus(shop, st) // phase_monitoring.go
	setReadyAndPhase(shop, succeeded)
	setMongoDBStatus(shop, st.replicaSet, st.failures[shopv1.ConditionReplicaSetInitialized] != nil)
	if succeeded {
		shop.Status.ObservedGeneration = shop.Generation
	}
}

// mongoDBCondition is MongoDBReady: the StatefulSet's readiness, or the external
// database's answer to a ping.
func mongoDBCondition(shop *shopv1.LittleEcom, st *reconcileState) conditionStatus {
	failure := st.failures[shopv1.ConditionMongoDBReady]
	if shop.Spec.MongoDB.External != nil {
		return externalMongoDBCondition(st.external, failure)
	}
	return statefulSetCondition(st.statefulSets[resource.ComponentMongoDB], failure)
}

// statefulSetCondition is True when every replica of the current revision is ready.
func statefulSetCondition(sts *appsv1.StatefulSet, failure error) conditionStatus {
	if sts == nil || failure != nil {
		return absentOrFailed(failure)
	}
	s := sts.Status
	return replicasCondition(ptr.Deref(sts.Spec.Replicas, 1), s.ReadyReplicas, s.UpdatedReplicas, s.ObservedGeneration >= sts.Generation)
}

// deploymentCondition is True when every replica of the current revision is available.
func deploymentCondition(d *appsv1.Deployment, failure error) conditionStatus {
	if d == nil || failure != nil {
		return absentOrFailed(failure)
	}
	s := d.Status
	return replicasCondition(ptr.Deref(d.Spec.Replicas, 1), s.AvailableReplicas, s.UpdatedReplicas, s.ObservedGeneration >= d.Generation)
}

// absentOrFailed is the condition of a workload the reconcile could not apply, or has not
// created yet.
func absentOrFailed(failure error) conditionStatus {
	if failure != nil {
		return conditionStatus{metav1.ConditionFalse, shopv1.ReasonReconcileFailed, safeMessage(failure)}
	}
	return conditionStatus{metav1.ConditionUnknown, shopv1.ReasonProgressing, msgNotCreated}
}

func replicasCondition(desired, ready, updated int32, observed bool) conditionStatus {
	switch {
	case desired == 0:
		return conditionStatus{metav1.ConditionFalse, shopv1.ReasonScaledToZero, "scaled to 0 replicas"}
	case !observed:
		return conditionStatus{metav1.ConditionFalse, shopv1.ReasonProgressing, "waiting for the controller to observe the latest spec"}
	case ready >= desired && updated >= desired:
		return conditionStatus{metav1.ConditionTrue, shopv1.ReasonReady, fmt.Sprintf("%d/%d replicas ready", ready, desired)}
	default:
		return conditionStatus{metav1.ConditionFalse, shopv1.ReasonProgressing,
			fmt.Sprintf("%d/%d replicas ready, %d/%d updated", ready, desired, updated, desired)}
	}
}

// setReadyAndPhase aggregates the component conditions into Ready, readyComponents and phase.
func setReadyAndPhase(shop *shopv1.LittleEcom, succeeded bool) {
	var notReady []string
	conditions := componentConditions(shop)
	for _, t := range conditions {
		if !meta.IsStatusConditionTrue(shop.Status.Conditions, t) {
			notReady = append(notReady, t)
		}
	}
	total := len(conditions)
	shop.Status.ReadyComponents = fmt.Sprintf("%d/%d", total-len(notReady), total)

	wasUp := shop.Status.Phase == shopv1.PhaseReady || shop.Status.Phase == shopv1.PhaseDegraded
	specUnchanged := shop.Status.ObservedGeneration == shop.Generation
	switch {
	case len(notReady) == 0 && succeeded:
		conditionStatus{metav1.ConditionTrue, shopv1.ReasonAllComponentsReady, "every component is ready"}.
			apply(shop, shopv1.ConditionReady)
		shop.Status.Phase = shopv1.PhaseReady
		return
	case len(notReady) == 0:
		notReady = []string{"reconcile failed"}
	}
	conditionStatus{metav1.ConditionFalse, shopv1.ReasonComponentsNotReady, "not ready: " + strings.Join(notReady, ", ")}.
		apply(shop, shopv1.ConditionReady)
	// A shop that was up and lost a component without a spec change is Degraded; one that
	// is still rolling out a spec is Provisioning.
	if !succeeded || (wasUp && specUnchanged) {
		shop.Status.Phase = shopv1.PhaseDegraded
	} else {
		shop.Status.Phase = shopv1.PhaseProvisioning
	}
}

// statusEqual says whether a status write would change anything.
func statusEqual(a, b *shopv1.LittleEcomStatus) bool {
	return equality.Semantic.DeepEqual(a, b)
}

// patchStatus writes shop's status when it differs from original's, as a merge patch of the
// status alone: it cannot conflict with a spec or metadata change made since the Get, and
// only the shop's own reconcile writes the status.
func (r *LittleEcomReconciler) patchStatus(ctx context.Context, shop, original *shopv1.LittleEcom) error {
	if statusEqual(&original.Status, &shop.Status) {
		return nil
	}
	if err := r.Status().Patch(ctx, shop, client.MergeFrom(original)); err != nil {
		return fmt.Errorf("updating status: %w", err)
	}
	return nil
}
