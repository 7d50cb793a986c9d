package controllers

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/mongors"
)

func TestMongoDBStatefulSetReplicas_ShrinksOnlyAfterMembersLeft(t *testing.T) {
	members := func(n int) []shopv1.MongoDBMemberStatus { return make([]shopv1.MongoDBMemberStatus, n) }
	tests := []struct {
		name        string
		desired     int32
		initialized bool
		members     int
		want        *int32
	}{
		{"new shop", 3, false, 0, nil},
		{"steady", 3, true, 3, nil},
		{"scale up: the StatefulSet grows first", 5, true, 3, nil},
		{"scale down: keep the pods of members still in the set", 1, true, 3, ptr.To[int32](3)},
		{"scale down half done", 1, true, 2, ptr.To[int32](2)},
		{"not initialized: the spec decides", 1, false, 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shop := &shopv1.LittleEcom{}
			shop.Spec.MongoDB.Replicas = new(tt.desired)
			shop.Status.MongoDB = shopv1.MongoDBStatus{Initialized: tt.initialized, Members: members(tt.members)}
			got := mongoDBStatefulSetReplicas(shop)
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Errorf("got %v, want %v", ptr.Deref(got, -1), ptr.Deref(tt.want, -1))
			}
		})
	}
}

func TestExplainUnreachable_SaysWhyPodNamesDoNotResolve(t *testing.T) {
	dns := fmt.Errorf("dialing: %w", &net.DNSError{Err: "no such host", Name: "shop-mongodb-0.shop-mongodb-headless.ns.svc.cluster.local"})
	if msg := explainUnreachable(dns).Error(); !strings.Contains(msg, "resolve only inside the cluster") {
		t.Errorf("message %q does not explain the out-of-cluster case", msg)
	}
	other := errors.New("authentication failed")
	if explainUnreachable(other) != other {
		t.Error("other errors must pass through unchanged")
	}
}

func TestObserveReplicaSet_MapsPhasesToReasons(t *testing.T) {
	for phase, reason := range map[mongors.Phase]string{
		mongors.PhaseReady:             shopv1.ReasonInitialized,
		mongors.PhaseWaitingForPrimary: shopv1.ReasonInitiating,
		mongors.PhaseReconfiguring:     shopv1.ReasonReconfiguring,
		mongors.PhaseWaitingForPods:    shopv1.ReasonWaitingForPods,
		mongors.PhaseUnreachable:       shopv1.ReasonUnreachable,
		mongors.PhaseRejected:          shopv1.ReasonRejected,
	} {
		st := newReconcileState(nil)
		observeReplicaSet(st, mongors.Result{Phase: phase})
		if st.replicaSet.reason != reason {
			t.Errorf("%s -> %s, want %s", phase, st.replicaSet.reason, reason)
		}
	}
}

func TestReplicaSetBackoff_GrowsWhileWaitingAndStaysBounded(t *testing.T) {
	start := time.Now()
	var memo shopMemo
	steps := []struct {
		after time.Duration
		phase mongors.Phase
		want  time.Duration
	}{
		{0, mongors.PhaseWaitingForPrimary, replicaSetPoll},
		{time.Second, mongors.PhaseWaitingForPrimary, replicaSetPoll},
		{2 * time.Minute, mongors.PhaseWaitingForPrimary, 30 * time.Second},
		{time.Hour, mongors.PhaseWaitingForPrimary, replicaSetMaxPoll},
		// A new phase starts the clock again.
		{time.Hour + time.Second, mongors.PhaseReconfiguring, replicaSetPoll},
	}
	for _, s := range steps {
		if got := memo.backoff(s.phase, start.Add(s.after)); got != s.want {
			t.Errorf("%s after %s: got %s, want %s", s.phase, s.after, got, s.want)
		}
	}
}
