package v1

import (
	corev1 "k8s.io/api/core/v1"
)

// MongoDBSpec is the MongoDB replica set.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.replicaSetName) || self.replicaSetName == oldSelf.replicaSetName",message="replicaSetName cannot be changed after creation"
type MongoDBSpec struct {
	// replicas is the number of replica-set members: odd, 1 to 7, so that a majority can
	// always elect a primary.
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=7
	// +kubebuilder:validation:XValidation:rule="self % 2 == 1",message="mongodb replicas must be odd (1, 3, 5 or 7) so that a majority can elect a primary"
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// image of mongod.
	// +kubebuilder:default="mongo:7.0"
	// +optional
	Image Image `json:"image,omitempty"`

	// replicaSetName is the --replSet name.
	// +kubebuilder:default="rs0"
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_-]+$`
	// +optional
	ReplicaSetName string `json:"replicaSetName,omitempty"`

	// storage of each member.
	// +kubebuilder:default={size:"10Gi"}
	// +optional
	Storage StorageSpec `json:"storage,omitzero"`

	// resources of the mongod container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitzero"`

	// credentialsSecretRef names a Secret with the root `username` and `password`. When
	// empty the operator generates one, once.
	// +optional
	CredentialsSecretRef *SecretReference `json:"credentialsSecretRef,omitempty"`
}

// RabbitMQSpec is the message broker.
type RabbitMQSpec struct {
	// replicas of the broker; 0 stops it (events wait in the backend's outbox).
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=9
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// image of RabbitMQ; it must include the management plugin (definitions import).
	// +kubebuilder:default="rabbitmq:3.13-management"
	// +optional
	Image Image `json:"image,omitempty"`

	// storage of each broker node.
	// +kubebuilder:default={size:"2Gi"}
	// +optional
	Storage StorageSpec `json:"storage,omitzero"`

	// resources of the broker container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitzero"`

	// credentialsSecretRef names a Secret with the administrator `username` and `password`.
	// When empty the operator generates one, once.
	// +optional
	CredentialsSecretRef *SecretReference `json:"credentialsSecretRef,omitempty"`
}
