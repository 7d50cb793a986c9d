package controllers

import (
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

func TestStatefulSetCondition(t *testing.T) {
	sts := func(replicas, ready, updated int32, generation, observed int64) *appsv1.StatefulSet {
		return &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Generation: generation},
			Spec:       appsv1.StatefulSetSpec{Replicas: new(replicas)},
			Status:     appsv1.StatefulSetStatus{ReadyReplicas: ready, UpdatedReplicas: updated, ObservedGeneration: observed},
		}
	}
	tests := []struct {
		name    string
		sts     *appsv1.StatefulSet
		failure error
		status  metav1.ConditionStatus
		reason  string
	}{
		{"not created", nil, nil, metav1.ConditionUnknown, shopv1.ReasonProgressing},
		{"all ready", sts(3, 3, 3, 2, 2), nil, metav1.ConditionTrue, shopv1.ReasonReady},
		{"one missing", sts(3, 2, 3, 2, 2), nil, metav1.ConditionFalse, shopv1.ReasonProgressing},
		{"old revision", sts(3, 3, 1, 2, 2), nil, metav1.ConditionFalse, shopv1.ReasonProgressing},
		{"spec not observed", sts(3, 3, 3, 3, 2), nil, metav1.ConditionFalse, shopv1.ReasonProgressing},
		{"scaled to zero", sts(0, 0, 0, 1, 1), nil, metav1.ConditionFalse, shopv1.ReasonScaledToZero},
		{"apply failed", sts(3, 3, 3, 1, 1), errors.New("boom"), metav1.ConditionFalse, shopv1.ReasonReconcileFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := statefulSetCondition(tt.sts, tt.failure)
			if got.status != tt.status || got.reason != tt.reason {
				t.Errorf("got %s/%s, want %s/%s (%s)", got.status, got.reason, tt.status, tt.reason, got.message)
			}
		})
	}
}

func TestDeploymentCondition_CountsAvailableNotJustReady(t *testing.T) {
	d := &appsv1.Deployment{
		Spec:   appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 2, AvailableReplicas: 1, UpdatedReplicas: 2},
	}
	if got := deploymentCondition(d, nil); got.status != metav1.ConditionFalse {
		t.Errorf("got %s, want False while a replica is not yet available", got.status)
	}
	d.Status.AvailableReplicas = 2
	if got := deploymentCondition(d, nil); got.status != metav1.ConditionTrue {
		t.Errorf("got %s, want True", got.status)
	}
}

// readyState is a reconcile that saw every workload ready and the replica set initialized.
func readyState(shop *shopv1.LittleEcom) *reconcileState {
	st := newReconcileState(resource.NewShop(shop, nil))
	ready := func(n int32) *appsv1.StatefulSet {
		return &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Replicas: new(n)},
			Status: appsv1.StatefulSetStatus{ReadyReplicas: n, UpdatedReplicas: n}}
	}
	st.statefulSets[resource.ComponentMongoDB] = ready(3)
	st.statefulSets[resource.ComponentRabbitMQ] = ready(1)
	for _, component := range resource.ServiceComponents {
		st.deployments[component] = &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1)},
			Status: appsv1.DeploymentStatus{AvailableReplicas: 1, UpdatedReplicas: 1}}
	}
	st.replicaSet = replicaSetObservation{reason: shopv1.ReasonInitialized, initialized: true}
	st.edge = readyEdge()
	return st
}

func TestComputeStatus_Phases(t *testing.T) {
	tests := []struct {
		name       string
		prevPhase  shopv1.Phase
		prevGen    int64
		generation int64
		breakIt    bool
		succeeded  bool
		want       shopv1.Phase
		wantReady  metav1.ConditionStatus
	}{
		{"new shop, not ready", "", 0, 1, true, true, shopv1.PhaseProvisioning, metav1.ConditionFalse},
		{"everything ready", shopv1.PhaseProvisioning, 1, 1, false, true, shopv1.PhaseReady, metav1.ConditionTrue},
		{"was ready, lost a component", shopv1.PhaseReady, 1, 1, true, true, shopv1.PhaseDegraded, metav1.ConditionFalse},
		{"was ready, rolling out a new spec", shopv1.PhaseReady, 1, 2, true, true, shopv1.PhaseProvisioning, metav1.ConditionFalse},
		{"reconcile failed", shopv1.PhaseProvisioning, 1, 1, true, false, shopv1.PhaseDegraded, metav1.ConditionFalse},
		{"ready children but reconcile failed", shopv1.PhaseReady, 1, 1, false, false, shopv1.PhaseDegraded, metav1.ConditionFalse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shop := &shopv1.LittleEcom{ObjectMeta: metav1.ObjectMeta{Generation: tt.generation}}
			shop.Spec.Notifier.SMTP.Host = "smtp.example.com"
			shop.Status.Phase, shop.Status.ObservedGeneration = tt.prevPhase, tt.prevGen
			st := readyState(shop)
			if tt.breakIt {
				st.deployments[resource.ComponentBackend].Status.AvailableReplicas = 0
			}
			computeStatus(shop, st, tt.succeeded)
			if shop.Status.Phase != tt.want {
				t.Errorf("phase = %s, want %s", shop.Status.Phase, tt.want)
			}
			if c := meta.FindStatusCondition(shop.Status.Conditions, shopv1.ConditionReady); c.Status != tt.wantReady {
				t.Errorf("Ready = %s (%s)", c.Status, c.Message)
			}
			wantGen := tt.prevGen
			if tt.succeeded {
				wantGen = tt.generation
			}
			if shop.Status.ObservedGeneration != wantGen {
				t.Errorf("observedGeneration = %d, want %d", shop.Status.ObservedGeneration, wantGen)
			}
		})
	}
}

func TestComputeStatus_IsStableWhenNothingChanged(t *testing.T) {
	shop := &shopv1.LittleEcom{ObjectMeta: metav1.ObjectMeta{Generation: 1}}
	computeStatus(shop, readyState(shop), true)
	first := shop.Status.DeepCopy()
	computeStatus(shop, readyState(shop), true)
	if !statusEqual(first, &shop.Status) {
		t.Error("a second computation from the same observations changed the status (a write per resync)")
	}
	if shop.Status.ReadyComponents != "7/7" {
		t.Errorf("readyComponents = %s", shop.Status.ReadyComponents)
	}
}

func TestComputeStatus_NotifierWithoutSMTPSaysSo(t *testing.T) {
	shop := &shopv1.LittleEcom{}
	computeStatus(shop, readyState(shop), true)
	c := meta.FindStatusCondition(shop.Status.Conditions, shopv1.ConditionNotifierReady)
	if c.Reason != shopv1.ReasonSMTPNotConfigured || c.Status != metav1.ConditionTrue {
		t.Errorf("NotifierReady = %s/%s, want True/SMTPNotConfigured", c.Status, c.Reason)
	}
}
