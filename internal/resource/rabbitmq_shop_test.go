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

// newRMQShop returns a shop named "shop" in namespace "ns", with mutate applied to its spec.
func newRMQShop(t *testing.T, mutate func(*shopv1.LittleEcomSpec)) *Shop {
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

// rmqBuild builds b's object and applies Update once.
func rmqBuild(t *testing.T, b Builder) client.Object {
	t.Helper()
	obj := b.Build()
	if err := b.Update(obj); err != nil {
		t.Fatalf("Update: %v", err)
	}
	return obj
}

// assertRMQOwned checks the name, namespace, labels and controller reference.
func assertRMQOwned(t *testing.T, obj client.Object, name string) {
	t.Helper()
	if obj.GetName() != name || obj.GetNamespace() != "ns" {
		t.Errorf("object is %s/%s, want ns/%s", obj.GetNamespace(), obj.GetName(), name)
	}
	if want := Labels("shop", ComponentRabbitMQ); !equality.Semantic.DeepEqual(obj.GetLabels(), want) {
		t.Errorf("labels = %v, want %v", obj.GetLabels(), want)
	}
	refs := obj.GetOwnerReferences()
	if len(refs) != 1 || refs[0].Kind != "LittleEcom" || refs[0].Name != "shop" || refs[0].UID != "uid-1" ||
		refs[0].Controller == nil || !*refs[0].Controller {
		t.Errorf("owner references = %+v, want the LittleEcom as controller", refs)
	}
}

// assertRMQIdempotent applies Update a second time and requires that nothing changed.
func assertRMQIdempotent(t *testing.T, b Builder) {
	t.Helper()
	obj := rmqBuild(t, b)
	before := obj.DeepCopyObject()
	if err := b.Update(obj); err != nil {
		t.Fatalf("second Update: %v", err)
	}
	if !equality.Semantic.DeepEqual(before, obj) {
		t.Errorf("second Update changed the object:\nbefore %+v\nafter  %+v", before, obj)
	}
}

// rmqTestUsers are credentials as the reconciler would read them from their Secrets.
func rmqTestUsers() RabbitMQUsers {
	return RabbitMQUsers{
		Admin:    Credentials{Username: "admin", Password: "AdminPassw0rdAdminPassw0rdAdminPa"},
		Backend:  Credentials{Username: "backend", Password: "BackendSecretBackendSecretBackend"},
		Notifier: Credentials{Username: "notifier", Password: "NotifierSecretNotifierSecretNotif"},
	}
}
