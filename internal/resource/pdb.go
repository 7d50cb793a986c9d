package resource

import (
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// pdbBuilder limits voluntary disruptions (drains, evictions) of one component's pods.
type pdbBuilder struct {
	shop           *Shop
	component      string
	minAvailable   *intstr.IntOrString
	maxUnavailable *intstr.IntOrString
}

// MongoDBPodDisruptionBudget lets a drain take one member at a time, so a majority of a
// replica set of three or more stays up.
func (s *Shop) MongoDBPodDisruptionBudget() Builder {
	one := intstr.FromInt32(1)
	return &pdbBuilder{shop: s, component: ComponentMongoDB, maxUnavailable: &one}
}

// ServicePodDisruptionBudget keeps one pod of backend or auth up during drains. It exists
// only while the service runs more than one replica: with one, minAvailable 1 would block
// every drain of that pod's node.
func (s *Shop) ServicePodDisruptionBudget(component string) Builder {
	one := intstr.FromInt32(1)
	b := &pdbBuilder{shop: s, component: component, minAvailable: &one}
	w, err := s.serviceWorkload(component)
	enabled := err == nil && *replicasOr(w.replicas, w.defReplicas) > 1
	return optional{Builder: b, enabled: enabled}
}

// Build implements Builder.
func (b *pdbBuilder) Build() client.Object {
	return &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{
		Name: b.shop.Names.prefixed(b.component), Namespace: b.shop.Instance.Namespace,
	}}
}

// Update implements Builder.
func (b *pdbBuilder) Update(obj client.Object) error {
	pdb, ok := obj.(*policyv1.PodDisruptionBudget)
	if !ok {
		return typeError("PodDisruptionBudget", obj)
	}
	if err := b.shop.setOwnerAndLabels(pdb, b.component); err != nil {
		return err
	}
	pdb.Spec.Selector = &metav1.LabelSelector{MatchLabels: SelectorLabels(b.shop.Instance.Name, b.component)}
	pdb.Spec.MinAvailable = b.minAvailable
	pdb.Spec.MaxUnavailable = b.maxUnavailable
	return nil
}
