package controllers

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// ReplicaSetManager initiates and reconfigures the MongoDB replica set and creates the
// services' users. The reconciler's tests swap in a double; production uses mongors.
type ReplicaSetManager interface{}

// replicaSetObservation is what the replica-set phase saw, for status.
type replicaSetObservation struct {
	reason      string
	message     string
	initialized bool
	members     []shopv1.MongoDBMemberStatus
	primary     string
}

// reconcileReplicaSet is filled in by the replica-set issue; it records that the replica set
// is not managed yet.
func (r *LittleEcomReconciler) reconcileReplicaSet(_ context.Context, st *reconcileState) error {
	st.replicaSet = replicaSetObservation{reason: shopv1.ReasonWaitingForPods, message: "waiting for the members"}
	return nil
}

func replicaSetCondition(obs replicaSetObservation, failure error) conditionStatus {
	if failure != nil {
		return conditionStatus{metav1.ConditionFalse, shopv1.ReasonUnreachable, safeMessage(failure)}
	}
	if obs.initialized && obs.reason == shopv1.ReasonInitialized {
		return conditionStatus{metav1.ConditionTrue, obs.reason, obs.message}
	}
	return conditionStatus{metav1.ConditionFalse, obs.reason, obs.message}
}

func setMongoDBStatus(shop *shopv1.LittleEcom, obs replicaSetObservation) {
	shop.Status.MongoDB = shopv1.MongoDBStatus{
		ReplicaSet:  shop.Spec.MongoDB.ReplicaSetName,
		State:       obs.reason,
		Initialized: obs.initialized,
		Members:     obs.members,
		Primary:     obs.primary,
	}
}

// DefaultReplicaSetManager is the production replica-set manager.
func DefaultReplicaSetManager() ReplicaSetManager { return nil }
