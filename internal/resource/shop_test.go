package resource

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
)

var svcComponents = []string{ComponentBackend, ComponentAuth, ComponentNotifier}

// newSvcShop returns a shop named "shop" in namespace "ns", with mutate applied to its spec.
func newTestShop(t *testing.T, mutate func(*shopv1.LittleEcomSpec)) *Shop {
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
func buildOnce(t *testing.T, b Builder) client.Object {
	t.Helper()
	obj := b.Build()
	if err := b.Update(obj); err != nil {
		t.Fatalf("Update: %v", err)
	}
	return obj
}

// assertSvcOwnedAndLabelled checks the name, namespace, labels and controller reference.
func assertOwned(t *testing.T, obj client.Object, name, component string) {
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

// assertUpdateIsIdempotent builds b's object, updates it once more and wants no change.
func assertUpdateIsIdempotent(t *testing.T, b Builder) {
	t.Helper()
	obj := buildOnce(t, b)
	once := obj.DeepCopyObject().(client.Object)
	if err := b.Update(obj); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(once, obj) {
		t.Errorf("Update applied twice changed the %T", obj)
	}
}
