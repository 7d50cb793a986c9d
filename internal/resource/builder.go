package resource

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// Builder is one child object of a LittleEcom.
type Builder interface {
	// Build returns the named, empty object, ready for a Get or a Create.
	Build() client.Object
	// Update sets every field that must converge on obj, which is either freshly built or
	// read from the API server. Applied twice it changes nothing the second time.
	Update(obj client.Object) error
}

// Optional is implemented by builders of children that exist only for some specs (the
// Ingress, the logging stack). When Enabled is false the reconciler deletes the child.
type Optional interface {
	Enabled() bool
}

// Shop is what every builder reads: the LittleEcom and what the reconciler learned while
// applying earlier children.
type Shop struct {
	Instance *shopv1.LittleEcom
	Scheme   *runtime.Scheme
	Names    Names

	// ConfigHashes maps a workload component to a checksum of the Secrets and ConfigMaps
	// its pods read. A change rolls the workload through a pod-template annotation.
	ConfigHashes map[string]string

	// MongoDBStatefulSetReplicas overrides spec.mongodb.replicas for the StatefulSet while
	// the replica set is being reconfigured (scale-down shrinks the StatefulSet only after
	// the members left the set). Nil means the spec's value.
	MongoDBStatefulSetReplicas *int32

	// Images are the operator's default images (images.go); the zero value means
	// DefaultImages.
	Images Images
}

// NewShop returns the builder context for instance.
func NewShop(instance *shopv1.LittleEcom, scheme *runtime.Scheme) *Shop {
	return &Shop{
		Instance:     instance,
		Scheme:       scheme,
		Names:        Names{Instance: instance.Name, Namespace: instance.Namespace},
		ConfigHashes: map[string]string{},
	}
}

// setOwnerAndLabels makes instance the controller of obj and applies component's labels.
func (s *Shop) setOwnerAndLabels(obj client.Object, component string) error {
	labels := obj.GetLabels()
	mergeInto(&labels, Labels(s.Instance.Name, component))
	obj.SetLabels(labels)
	if err := controllerutil.SetControllerReference(s.Instance, obj, s.Scheme); err != nil {
		return fmt.Errorf("setting owner of %s: %w", obj.GetName(), err)
	}
	return nil
}

// typeError reports a builder handed an object of the wrong type: a programming error.
func typeError(want string, got client.Object) error {
	return fmt.Errorf("builder expects a %s, got %T", want, got)
}
