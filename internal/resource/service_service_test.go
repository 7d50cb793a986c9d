package resource

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/intstr"

	"littleecom.io/littleecom/internal/contract"
)

func TestServiceAccount(t *testing.T) {
	s := newTestShop(t, nil)
	b := s.ServiceAccount()
	sa := buildOnce(t, b).(*corev1.ServiceAccount)
	assertOwned(t, sa, "shop", ComponentShop)
	if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Errorf("automountServiceAccountToken = %v, want false", sa.AutomountServiceAccountToken)
	}
	again := sa.DeepCopy()
	if err := b.Update(again); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(sa, again) {
		t.Error("second Update changed the ServiceAccount")
	}
	if err := b.Update(&corev1.ConfigMap{}); err == nil {
		t.Error("Update accepted a ConfigMap")
	}
}

func TestServiceService(t *testing.T) {
	for _, component := range svcComponents {
		t.Run(component, func(t *testing.T) {
			b := newTestShop(t, nil).ServiceService(component)
			svc := buildOnce(t, b).(*corev1.Service)
			assertOwned(t, svc, "shop-"+component, component)
			// The API services publish their API only (no route may reach their management
			// port); the notifier has no API and publishes its management port for scrapers.
			want := []corev1.ServicePort{{Name: "http", Port: contract.HTTPPort,
				TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}}
			if component == ComponentNotifier {
				want = []corev1.ServicePort{{Name: "management", Port: contract.ManagementPort,
					TargetPort: intstr.FromString("management"), Protocol: corev1.ProtocolTCP}}
			}
			if !equality.Semantic.DeepEqual(svc.Spec.Ports, want) {
				t.Errorf("ports = %+v, want %+v", svc.Spec.Ports, want)
			}
			if svc.Spec.Type != corev1.ServiceTypeClusterIP || svc.Spec.ClusterIP != "" || svc.Spec.PublishNotReadyAddresses {
				t.Errorf("want a plain ClusterIP Service, got %+v", svc.Spec)
			}
			if !equality.Semantic.DeepEqual(svc.Spec.Selector, SelectorLabels("shop", component)) {
				t.Errorf("selector = %v", svc.Spec.Selector)
			}
			again := svc.DeepCopy()
			if err := b.Update(again); err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(svc, again) {
				t.Error("second Update changed the Service")
			}
		})
	}
}
