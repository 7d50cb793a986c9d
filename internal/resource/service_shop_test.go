package resource

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
)

var svcComponents = []string{ComponentBackend, ComponentAuth, ComponentNotifier}

// newSvcShop returns a shop named "shop" in namespace "ns", with mutate applied to its spec.
func newSvcShop(t *testing.T, mutate func(*shopv1.LittleEcomSpec)) *Shop {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := shopv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	instance := &shopv1.LittleEcom{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "ns", UID: "uid-1"}}
	if mutate != nil {
		mutate(&instance.Spec)
	}
	return NewShop(instance, scheme)
}

// svcBuild builds b's object and applies Update once.
func svcBuild(t *testing.T, b Builder) client.Object {
	t.Helper()
	obj := b.Build()
	if err := b.Update(obj); err != nil {
		t.Fatalf("Update: %v", err)
	}
	return obj
}

// assertSvcOwnedAndLabelled checks the name, namespace, labels and controller reference.
func assertSvcOwnedAndLabelled(t *testing.T, obj client.Object, name, component string) {
	t.Helper()
	if obj.GetName() != name || obj.GetNamespace() != "ns" {
		t.Errorf("object is %s/%s, want ns/%s", obj.GetNamespace(), obj.GetName(), name)
	}
	if !equality.Semantic.DeepEqual(obj.GetLabels(), Labels("shop", component)) {
		t.Errorf("labels = %v, want %v", obj.GetLabels(), Labels("shop", component))
	}
	refs := obj.GetOwnerReferences()
	if len(refs) != 1 || refs[0].Kind != "LittleEcom" || refs[0].Name != "shop" || refs[0].UID != "uid-1" ||
		refs[0].Controller == nil || !*refs[0].Controller {
		t.Errorf("owner references = %+v, want the LittleEcom as controller", refs)
	}
}

func TestServiceAccount(t *testing.T) {
	s := newSvcShop(t, nil)
	b := s.ServiceAccount()
	sa := svcBuild(t, b).(*corev1.ServiceAccount)
	assertSvcOwnedAndLabelled(t, sa, "shop", ComponentShop)
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
			b := newSvcShop(t, nil).ServiceService(component)
			svc := svcBuild(t, b).(*corev1.Service)
			assertSvcOwnedAndLabelled(t, svc, "shop-"+component, component)
			want := []corev1.ServicePort{{Name: "http", Port: contract.HTTPPort,
				TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}}
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
