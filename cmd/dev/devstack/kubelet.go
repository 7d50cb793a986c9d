package devstack

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// kubelet plays the kubelet and the workload controllers for the shop's Deployments and
// StatefulSets, which envtest has none of: every second it writes each one's status from
// whether its local stand-in answers. One local process stands in for all of an object's
// replicas, so ready means every replica ready, and not ready means none. For the Ingress it
// plays the ingress controller, whose part the gateway takes.
type kubelet struct {
	c         client.Client
	namespace string
	// probes maps a Deployment or StatefulSet name to the health of its stand-in.
	probes map[string]func(context.Context) bool
	// ingress is the Ingress the gateway stands in for; once edgeUp says the gateway serves,
	// its status gets the gateway's address, as an ingress controller publishes its own.
	ingress string
	edge    netip.AddrPort
	edgeUp  func() bool
	log     *slog.Logger
}

func (k *kubelet) run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		k.sync(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (k *kubelet) sync(ctx context.Context) {
	var deps appsv1.DeploymentList
	if err := k.c.List(ctx, &deps, client.InNamespace(k.namespace)); err == nil {
		for i := range deps.Items {
			k.syncDeployment(ctx, &deps.Items[i])
		}
	}
	if k.edgeUp != nil && k.edgeUp() {
		k.syncIngress(ctx)
	}
	var sets appsv1.StatefulSetList
	if err := k.c.List(ctx, &sets, client.InNamespace(k.namespace)); err == nil {
		for i := range sets.Items {
			k.syncStatefulSet(ctx, &sets.Items[i])
		}
	}
}

func (k *kubelet) readyReplicas(ctx context.Context, name string, replicas int32) (int32, bool) {
	probe, ok := k.probes[name]
	if !ok {
		return 0, false
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if probe(pctx) {
		return replicas, true
	}
	return 0, true
}

func (k *kubelet) syncDeployment(ctx context.Context, d *appsv1.Deployment) {
	n := ptr.Deref(d.Spec.Replicas, 1)
	r, ok := k.readyReplicas(ctx, d.Name, n)
	if !ok {
		return
	}
	want := *d.Status.DeepCopy()
	want.ObservedGeneration = d.Generation
	want.Replicas, want.UpdatedReplicas = n, n
	want.ReadyReplicas, want.AvailableReplicas, want.UnavailableReplicas = r, r, n-r
	if equality.Semantic.DeepEqual(d.Status, want) {
		return
	}
	d.Status = want
	if err := k.c.Status().Update(ctx, d); err == nil {
		k.log.Info("deployment status", "deployment", d.Name, "ready", r, "replicas", n)
	}
}

func (k *kubelet) syncStatefulSet(ctx context.Context, sts *appsv1.StatefulSet) {
	n := ptr.Deref(sts.Spec.Replicas, 1)
	r, ok := k.readyReplicas(ctx, sts.Name, n)
	if !ok {
		return
	}
	want := *sts.Status.DeepCopy()
	want.ObservedGeneration = sts.Generation
	want.Replicas, want.UpdatedReplicas, want.CurrentReplicas = n, n, n
	want.ReadyReplicas, want.AvailableReplicas = r, r
	if equality.Semantic.DeepEqual(sts.Status, want) {
		return
	}
	sts.Status = want
	if err := k.c.Status().Update(ctx, sts); err == nil {
		k.log.Info("statefulset status", "statefulset", sts.Name, "ready", r, "replicas", n)
	}
}

func (k *kubelet) syncIngress(ctx context.Context) {
	var ing networkingv1.Ingress
	if err := k.c.Get(ctx, client.ObjectKey{Namespace: k.namespace, Name: k.ingress}, &ing); err != nil {
		return
	}
	want := []networkingv1.IngressLoadBalancerIngress{{
		IP:    k.edge.Addr().String(),
		Ports: []networkingv1.IngressPortStatus{{Port: int32(k.edge.Port()), Protocol: corev1.ProtocolTCP}},
	}}
	if equality.Semantic.DeepEqual(ing.Status.LoadBalancer.Ingress, want) {
		return
	}
	ing.Status.LoadBalancer.Ingress = want
	if err := k.c.Status().Update(ctx, &ing); err == nil {
		k.log.Info("ingress status", "ingress", ing.Name, "address", k.edge.String())
	}
}
