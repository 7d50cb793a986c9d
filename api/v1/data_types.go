package v1

import (
	corev1 "k8s.io/api/core/v1"
)

// MongoDBSpec is the shop's database: a replica set the operator runs in the shop's
// namespace (the default), or an existing MongoDB the shop connects to (external).
//
// The in-cluster fields have no CRD defaults, on purpose: a default would be written into
// every shop, an external one included, and the rule that refuses them next to external
// could not tell a value the user wrote from one the API server filled in. The operator
// applies the defaults documented on each field.
// +kubebuilder:validation:XValidation:rule="!has(self.external) || !(has(self.replicas) || has(self.image) || has(self.replicaSetName) || has(self.storage) || has(self.resources) || has(self.credentialsSecretRef))",message="external cannot be combined with the in-cluster fields replicas, image, replicaSetName, storage, resources and credentialsSecretRef: the operator runs no MongoDB for a shop with an external database",messageExpression=`'external cannot be combined with ' + ((has(self.replicas) ? ', replicas' : "") + (has(self.image) ? ', image' : "") + (has(self.replicaSetName) ? ', replicaSetName' : "") + (has(self.storage) ? ', storage' : "") + (has(self.resources) ? ', resources' : "") + (has(self.credentialsSecretRef) ? ', credentialsSecretRef' : "")).substring(2) + ': the operator runs no MongoDB for a shop with an external database; remove them'`
// +kubebuilder:validation:XValidation:rule="has(self.external) == has(oldSelf.external)",message="external cannot be set or removed after creation: the operator does not move a shop's data between its own replica set and an external MongoDB; create a new LittleEcom instead"
// +kubebuilder:validation:XValidation:rule="(has(self.replicaSetName) ? self.replicaSetName : 'rs0') == (has(oldSelf.replicaSetName) ? oldSelf.replicaSetName : 'rs0')",message="replicaSetName cannot be changed after creation"
// +kubebuilder:validation:XValidation:rule="(has(self.storage) && has(self.storage.size)) == (has(oldSelf.storage) && has(oldSelf.storage.size)) || (has(self.storage) && has(self.storage.size) ? self.storage.size : '10Gi') == (has(oldSelf.storage) && has(oldSelf.storage.size) ? oldSelf.storage.size : '10Gi')",message="storage.size cannot be changed after creation: StatefulSet volume claim templates are immutable"
type MongoDBSpec struct {
	// external connects the shop to an existing MongoDB (Atlas, a replica set another
	// operator runs) instead of running one: the operator creates no MongoDB objects and
	// reports MongoDBReady from a ping. It cannot be combined with the in-cluster fields
	// below, and cannot be set or removed after creation.
	// +optional
	External *ExternalMongoDBSpec `json:"external,omitempty"`

	// replicas is the number of replica-set members: odd, 1 to 7, so that a majority can
	// always elect a primary. Default 3.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=7
	// +kubebuilder:validation:XValidation:rule="self % 2 == 1",message="mongodb replicas must be odd (1, 3, 5 or 7) so that a majority can elect a primary"
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// image of mongod. Unset, the operator's default (mongo:7.0 in this release) is used
	// and follows operator upgrades; a changed image is rolled out one member at a time,
	// the primary last, and the feature compatibility version is raised once every member
	// runs the new release. Move one major version at a time.
	// +optional
	Image Image `json:"image,omitempty"`

	// replicaSetName is the --replSet name. Default rs0; it cannot be changed after creation.
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_-]+$`
	// +optional
	ReplicaSetName string `json:"replicaSetName,omitempty"`

	// storage of each member. Default size 10Gi, the cluster's default class, Retain.
	// +optional
	Storage StorageSpec `json:"storage,omitzero"`

	// resources of the mongod container. Default requests 250m CPU and 512Mi, limit 1Gi.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitzero"`

	// credentialsSecretRef names a Secret with the root `username` and `password`. When
	// empty the operator generates one, once.
	// +optional
	CredentialsSecretRef *SecretReference `json:"credentialsSecretRef,omitempty"`
}

// ExternalMongoDBSpec is a MongoDB the operator does not run. The services use it with the
// databases they always use (ecom, ecom-auth, ecom-notifier): the user must be allowed to
// read and write them (readWrite on each, or readWriteAnyDatabase).
type ExternalMongoDBSpec struct {
	// secretRef names a Secret in the shop's namespace with the connection:
	//
	//   - `uri` (required; see uriKey): a mongodb:// or mongodb+srv:// connection string with
	//     the hosts and options, e.g. mongodb+srv://cluster0.example.net/?retryWrites=true.
	//     It may carry credentials (mongodb+srv://user:pass@...): it is read only from the
	//     Secret (secretKeyRef), never copied into a ConfigMap, the status or events.
	//   - `username`, `password` (optional): credentials kept out of the URI. When present
	//     they win over the URI's and authenticate against the admin database (where Atlas
	//     and the MongoDB operators keep users); to authenticate against another database,
	//     leave them out and put the credentials and authSource= into the URI.
	//
	// A change to the Secret rolls the services.
	// +required
	SecretRef SecretReference `json:"secretRef"`

	// uriKey is the Secret's key that holds the connection string, default `uri`. Set it to
	// use a Secret another operator writes as is, e.g. connectionString.standardSrv (MongoDB
	// Community Operator) or connectionStringStandardSrv (Atlas Kubernetes Operator); their
	// `username` and `password` keys are read as above.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	// +optional
	URIKey string `json:"uriKey,omitempty"`
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
	// Unset, the operator's default (rabbitmq:3.13-management in this release) is used and
	// follows operator upgrades.
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
