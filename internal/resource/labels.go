package resource

import "maps"

// The Kubernetes recommended label keys every child carries (README: "What the operator
// creates"); the selectors use name, instance and component only, which never change.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelComponent = "app.kubernetes.io/component"
	LabelPartOf    = "app.kubernetes.io/part-of"
	LabelManagedBy = "app.kubernetes.io/managed-by"

	PartOf    = "littleecom"
	ManagedBy = "littleecom-operator"
)

// Labels are every label a child of instance in component carries.
func Labels(instance, component string) map[string]string {
	return map[string]string{
		LabelName:      component,
		LabelInstance:  instance,
		LabelComponent: component,
		LabelPartOf:    PartOf,
		LabelManagedBy: ManagedBy,
	}
}

// SelectorLabels are the stable subset used in selectors, which are immutable.
func SelectorLabels(instance, component string) map[string]string {
	return map[string]string{
		LabelName:      component,
		LabelInstance:  instance,
		LabelComponent: component,
	}
}

// mergeInto sets want's entries in *dst, keeping entries others (users, tools) added.
func mergeInto(dst *map[string]string, want map[string]string) {
	if *dst == nil {
		*dst = make(map[string]string, len(want))
	}
	maps.Copy(*dst, want)
}
