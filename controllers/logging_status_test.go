package controllers

import (
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
)

func TestDaemonSetCondition(t *testing.T) {
	ds := func(desired, ready, updated int32, generation, observed int64) *appsv1.DaemonSet {
		return &appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Generation: generation},
			Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: desired, NumberReady: ready,
				UpdatedNumberScheduled: updated, ObservedGeneration: observed},
		}
	}
	tests := []struct {
		name   string
		ds     *appsv1.DaemonSet
		status metav1.ConditionStatus
	}{
		{"not created", nil, metav1.ConditionUnknown},
		{"every node ready", ds(3, 3, 3, 1, 1), metav1.ConditionTrue},
		{"one node not ready", ds(3, 2, 3, 1, 1), metav1.ConditionFalse},
		{"rolling out", ds(3, 3, 1, 1, 1), metav1.ConditionFalse},
		{"spec not observed", ds(3, 3, 3, 2, 1), metav1.ConditionFalse},
		{"no node scheduled yet", ds(0, 0, 0, 1, 1), metav1.ConditionFalse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := daemonSetCondition(tt.ds); got.status != tt.status {
				t.Errorf("got %s (%s), want %s", got.status, got.message, tt.status)
			}
		})
	}
}

func TestLoggingCondition(t *testing.T) {
	readySts := &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](1)},
		Status: appsv1.StatefulSetStatus{ReadyReplicas: 1, UpdatedReplicas: 1}}
	readyDep := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1)},
		Status: appsv1.DeploymentStatus{AvailableReplicas: 1, UpdatedReplicas: 1}}
	readyDS := &appsv1.DaemonSet{Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 2, NumberReady: 2, UpdatedNumberScheduled: 2}}
	tests := []struct {
		name    string
		o       loggingObservation
		failure error
		status  metav1.ConditionStatus
		reason  string
	}{
		{"all ready", loggingObservation{readySts, readyDep, readyDS}, nil, metav1.ConditionTrue, shopv1.ReasonReady},
		{"fluentd missing", loggingObservation{readySts, readyDep, nil}, nil, metav1.ConditionUnknown, shopv1.ReasonProgressing},
		{"elasticsearch starting", loggingObservation{&appsv1.StatefulSet{}, readyDep, readyDS}, nil, metav1.ConditionFalse, shopv1.ReasonProgressing},
		{"apply failed", loggingObservation{readySts, readyDep, readyDS}, errors.New("boom"), metav1.ConditionFalse, shopv1.ReasonReconcileFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := loggingCondition(tt.o, tt.failure)
			if got.status != tt.status || got.reason != tt.reason {
				t.Errorf("got %s/%s (%s), want %s/%s", got.status, got.reason, got.message, tt.status, tt.reason)
			}
		})
	}
}

func TestSetLoggingStatus(t *testing.T) {
	tests := []struct {
		name            string
		enabled, expose bool
		api             string
		reason          string
		kibana          string
		countsInto      bool
	}{
		{"disabled", false, true, "http://shop.example.com/", shopv1.ReasonDisabled, "", false},
		{"enabled, Kibana not exposed", true, false, "https://shop.example.com/", shopv1.ReasonProgressing, "", true},
		{"enabled, exposed behind the edge", true, true, "http://shop.example.com/", shopv1.ReasonProgressing, "http://shop.example.com/kibana/", true},
		{"enabled, exposed, API without slash", true, true, "https://shop.example.com", shopv1.ReasonProgressing, "https://shop.example.com/kibana/", true},
		{"enabled, exposed, without an edge", true, true, "", shopv1.ReasonProgressing, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shop := &shopv1.LittleEcom{}
			shop.Spec.Logging.Enabled = tt.enabled
			shop.Spec.Logging.Kibana.Expose = tt.expose
			shop.Status.Endpoints.API = tt.api
			st := &reconcileState{failures: map[string]error{}}
			setLoggingStatus(shop, st)
			c := findCondition(shop, shopv1.ConditionLoggingReady)
			if c == nil || c.Reason != tt.reason {
				t.Fatalf("condition = %+v, want reason %s", c, tt.reason)
			}
			if shop.Status.Endpoints.Kibana != tt.kibana {
				t.Errorf("endpoints.kibana = %q, want %q", shop.Status.Endpoints.Kibana, tt.kibana)
			}
			if got := len(loggingConditions(shop)) > 0; got != tt.countsInto {
				t.Errorf("LoggingReady counts towards Ready = %v, want %v", got, tt.countsInto)
			}
		})
	}
}

func findCondition(shop *shopv1.LittleEcom, t string) *metav1.Condition {
	for i := range shop.Status.Conditions {
		if shop.Status.Conditions[i].Type == t {
			return &shop.Status.Conditions[i]
		}
	}
	return nil
}
