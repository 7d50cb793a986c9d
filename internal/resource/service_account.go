package resource

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ComponentShop labels children that every component shares, such as the ServiceAccount.
const ComponentShop = "shop"

// ServiceAccountBuilder is the ServiceAccount of the shop's pods.
type ServiceAccountBuilder struct{ shop *Shop }

var _ Builder = (*ServiceAccountBuilder)(nil)

// ServiceAccount returns the builder of the ServiceAccount every shop pod runs as. The pods
// need no Kubernetes API access, so no token is mounted and no Role is bound to it: a
// compromised pod gets nothing from the API server beyond what anonymous callers get.
func (s *Shop) ServiceAccount() Builder { return &ServiceAccountBuilder{shop: s} }

// Build implements Builder.
func (b *ServiceAccountBuilder) Build() client.Object {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
		Name: b.shop.Names.ServiceAccount(), Namespace: b.shop.Instance.Namespace,
	}}
}

// Update implements Builder.
func (b *ServiceAccountBuilder) Update(obj client.Object) error {
	sa, ok := obj.(*corev1.ServiceAccount)
	if !ok {
		return typeError("ServiceAccount", obj)
	}
	if err := b.shop.setOwnerAndLabels(sa, ComponentShop); err != nil {
		return err
	}
	sa.AutomountServiceAccountToken = new(false)
	return nil
}
