package v1

// NetworkPolicySpec names who outside the shop may reach its pods. Every shop gets a
// default-deny ingress NetworkPolicy over all its pods and policies that admit only the
// flows between its components, the operator (from its own namespace) and the peers named
// here.
type NetworkPolicySpec struct {
	// ingressControllers are the pods of the Ingress or Gateway controller that forward the
	// edge's traffic to auth, backend and (when exposed) Kibana. Empty admits those HTTP
	// ports from any source: the edge publishes them anyway, and no guess at a controller's
	// namespace fits every cluster. Name the controller to close the bypass around the edge.
	// +kubebuilder:validation:MaxItems=8
	// +listType=atomic
	// +optional
	IngressControllers []NamespacedPods `json:"ingressControllers,omitempty"`

	// metricsNamespace is the namespace whose pods (a Prometheus) may scrape the shop's
	// metrics: the services' management port and RabbitMQ's Prometheus port. Empty admits
	// no scraper.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	MetricsNamespace string `json:"metricsNamespace,omitempty"`
}

// NamespacedPods selects pods of one namespace by their labels.
type NamespacedPods struct {
	// namespace is the pods' namespace, matched by its kubernetes.io/metadata.name label.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +required
	Namespace string `json:"namespace"`

	// podLabels select the pods; empty selects every pod of the namespace.
	// +kubebuilder:validation:MaxProperties=16
	// +optional
	PodLabels map[string]string `json:"podLabels,omitempty"`
}
