package controllers

import (
	"fmt"
	"sync/atomic"

	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
)

var nsCounter atomic.Int64

// newNamespace gives each spec its own namespace: envtest has no garbage collector, so
// children of a deleted LittleEcom would otherwise linger into the next spec.
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("shop-%d", nsCounter.Add(1))}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

func newShop(ns, name string) *shopv1.LittleEcom {
	return &shopv1.LittleEcom{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
}

func key(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }

// eventually fetches obj until it exists.
func eventually(ns, name string, obj client.Object) {
	EventuallyWithOffset(1, func() error { return k8sClient.Get(ctx, key(ns, name), obj) }, timeout, interval).Should(Succeed())
}

// markStatefulSetReady plays the StatefulSet controller and kubelet: every replica ready.
func markStatefulSetReady(ns, name string) {
	EventuallyWithOffset(1, func() error {
		sts := &appsv1.StatefulSet{}
		if err := k8sClient.Get(ctx, key(ns, name), sts); err != nil {
			return err
		}
		n := *sts.Spec.Replicas
		sts.Status = appsv1.StatefulSetStatus{
			ObservedGeneration: sts.Generation, Replicas: n, ReadyReplicas: n, CurrentReplicas: n,
			UpdatedReplicas: n, AvailableReplicas: n,
		}
		return k8sClient.Status().Update(ctx, sts)
	}, timeout, interval).Should(Succeed())
}

// markDeploymentReady plays the Deployment controller and kubelet: every replica available.
func markDeploymentReady(ns, name string) {
	EventuallyWithOffset(1, func() error {
		d := &appsv1.Deployment{}
		if err := k8sClient.Get(ctx, key(ns, name), d); err != nil {
			return err
		}
		n := *d.Spec.Replicas
		d.Status = appsv1.DeploymentStatus{
			ObservedGeneration: d.Generation, Replicas: n, ReadyReplicas: n, AvailableReplicas: n, UpdatedReplicas: n,
		}
		return k8sClient.Status().Update(ctx, d)
	}, timeout, interval).Should(Succeed())
}

// markAllReady makes every workload of shop name ready.
func markAllReady(ns, name string) {
	markStatefulSetReady(ns, name+"-mongodb")
	markStatefulSetReady(ns, name+"-rabbitmq")
	for _, c := range []string{"auth", "backend", "notifier"} {
		markDeploymentReady(ns, name+"-"+c)
	}
}

// condition returns the condition of type t, or an empty one (Status "") while the
// reconciler has not set it yet, so that Eventually polls instead of panicking on nil.
func condition(le *shopv1.LittleEcom, t string) *metav1.Condition {
	if c := meta.FindStatusCondition(le.Status.Conditions, t); c != nil {
		return c
	}
	return &metav1.Condition{Type: t}
}

// envValue returns the value or secretKeyRef ("secret:<name>/<key>") of env var name.
func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name != name {
			continue
		}
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			return "secret:" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		}
		return e.Value
	}
	return ""
}

func ownedBy(obj client.Object, le *shopv1.LittleEcom) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.UID == le.UID && ref.Controller != nil && *ref.Controller {
			return true
		}
	}
	return false
}

// metaItems returns a typed list's items as objects.
func metaItems(l client.ObjectList) ([]client.Object, error) {
	objs, err := meta.ExtractList(l)
	if err != nil {
		return nil, err
	}
	out := make([]client.Object, 0, len(objs))
	for _, o := range objs {
		if co, ok := o.(client.Object); ok {
			out = append(out, co)
		}
	}
	return out, nil
}

// doubles are the suite's stand-in mongods, one replica set per shop.
var doubles = &doubleClusters{}

// testReplicaSet is the replica-set manager the suite runs with: the production code path
// dialing the doubles.
var testReplicaSet ReplicaSetManager = DriverReplicaSetManager{Dialer: doubles}

// updateShop applies mutate to the current LittleEcom, retrying on conflicts with the
// reconciler's status writes.
func updateShop(ns, name string, mutate func(*shopv1.LittleEcom)) {
	EventuallyWithOffset(1, func() error {
		le := &shopv1.LittleEcom{}
		if err := k8sClient.Get(ctx, key(ns, name), le); err != nil {
			return err
		}
		mutate(le)
		return k8sClient.Update(ctx, le)
	}, timeout, interval).Should(Succeed())
}
