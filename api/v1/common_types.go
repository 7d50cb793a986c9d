package v1

// Image is a container image reference.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=512
// +kubebuilder:validation:XValidation:rule="!self.contains(' ')",message="image must be a reference such as mongo:7.0, without spaces"
type Image string

// RetentionPolicy says what happens to a StatefulSet's volumes when the LittleEcom is deleted
// or scaled down.
// +kubebuilder:validation:Enum=Retain;Delete
type RetentionPolicy string

// Retention policies.
const (
	// RetentionRetain keeps the PersistentVolumeClaims (the data survives).
	RetentionRetain RetentionPolicy = "Retain"
	// RetentionDelete deletes them with the pods that used them.
	RetentionDelete RetentionPolicy = "Delete"
)

// StorageSpec is the persistent volume of each pod of a StatefulSet.
type StorageSpec struct {
	// size of each pod's volume, a quantity such as 10Gi. It cannot be changed after creation
	// because a StatefulSet's volume claim templates are immutable.
	// +kubebuilder:default="10Gi"
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="isQuantity(self) && quantity(self).isGreaterThan(quantity('0'))",message="size must be a positive quantity such as 10Gi or 500Mi"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="size cannot be changed after creation: StatefulSet volume claim templates are immutable"
	// +optional
	Size string `json:"size,omitempty"`

	// storageClassName of the volumes; empty means the cluster's default class.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="storageClassName cannot be changed after creation: StatefulSet volume claim templates are immutable"
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// retentionPolicy for the volumes when the shop is deleted or scaled down: Retain (default)
	// keeps the data, Delete removes it.
	// +kubebuilder:default=Retain
	// +optional
	RetentionPolicy RetentionPolicy `json:"retentionPolicy,omitempty"`
}

// SecretReference names a Secret in the LittleEcom's namespace that holds `username` and
// `password`. When set, it wins over the Secret the operator would generate.
type SecretReference struct {
	// name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}
