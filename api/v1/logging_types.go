package v1

import (
	corev1 "k8s.io/api/core/v1"
)

// LoggingSpec is the EFK stack that collects the shop's logs.
type LoggingSpec struct {
	// enabled deploys Elasticsearch, Kibana and Fluentd.
	// +kubebuilder:default=false
	// +optional
	Enabled bool `json:"enabled,omitempty"`

	// elasticsearch stores the logs.
	// +kubebuilder:default={}
	// +optional
	Elasticsearch ElasticsearchSpec `json:"elasticsearch,omitzero"`

	// kibana shows them.
	// +kubebuilder:default={}
	// +optional
	Kibana KibanaSpec `json:"kibana,omitzero"`

	// fluentd ships them from every node.
	// +kubebuilder:default={}
	// +optional
	Fluentd FluentdSpec `json:"fluentd,omitzero"`
}

// ElasticsearchSpec is the log store.
type ElasticsearchSpec struct {
	// replicas: 1 (single-node discovery) or 3 and more (master quorum). After creation it can
	// only grow, and only from 3: a single node has bootstrapped a cluster of its own, which
	// new nodes cannot join safely (they would bootstrap a second one), and nodes cannot leave
	// a cluster without voting-configuration exclusions, which this operator does not manage.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=9
	// +kubebuilder:validation:XValidation:rule="self != 2",message="elasticsearch replicas must be 1 (single node) or at least 3 (a master quorum survives one loss)"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf || (oldSelf >= 3 && self > oldSelf)",message="elasticsearch replicas can only grow, and only from 3: a single node cannot be joined by new nodes, and nodes cannot leave a cluster (to start over, disable logging and delete the Elasticsearch volumes)"
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// image of Elasticsearch; empty follows the operator's default (elasticsearch:8.19.14 in
	// this release), which an operator upgrade may move to a newer release. Keep Kibana's
	// version equal.
	// +optional
	Image Image `json:"image,omitempty"`

	// storage of each node.
	// +kubebuilder:default={size:"10Gi"}
	// +optional
	Storage StorageSpec `json:"storage,omitzero"`

	// resources of the Elasticsearch container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitzero"`
}

// KibanaSpec is the log viewer.
type KibanaSpec struct {
	// image of Kibana; empty follows the operator's default (kibana:8.19.14 in this
	// release). Keep its version equal to Elasticsearch's.
	// +optional
	Image Image `json:"image,omitempty"`

	// expose publishes Kibana at /kibana on the shop's edge (Ingress, HTTPRoute). Off by
	// default: people sign in to Kibana as the elastic superuser, so it is reached with
	// `kubectl port-forward` unless the shop asks for more. Exposed, it needs TLS on the
	// Ingress (ingress.tlsSecretName or ingress.certManager) or allowPlainHTTP.
	// +kubebuilder:default=false
	// +optional
	Expose bool `json:"expose,omitempty"`

	// allowPlainHTTP lets expose publish Kibana where the spec shows no TLS: an Ingress
	// without a certificate (the elastic password then crosses the network in clear text),
	// or only a Gateway, whose listeners the operator does not see.
	// +kubebuilder:default=false
	// +optional
	AllowPlainHTTP bool `json:"allowPlainHTTP,omitempty"`

	// resources of the Kibana container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitzero"`
}

// FluentdSpec is the log shipper.
type FluentdSpec struct {
	// image of Fluentd with the Elasticsearch output and Kubernetes metadata plugins; empty
	// follows the operator's default.
	// +optional
	Image Image `json:"image,omitempty"`

	// resources of the Fluentd container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitzero"`
}
