package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// LittleEcomSpec is the desired shop. Every section has defaults: `spec: {}` provisions a
// working shop (MongoDB replica set, RabbitMQ, the three services and an Ingress with CORS).
// +kubebuilder:validation:XValidation:rule="!has(self.auth) || !has(self.auth.emailVerification) || !self.auth.emailVerification || has(self.auth.publicURL) || (has(self.ingress) && (!has(self.ingress.enabled) || self.ingress.enabled) && has(self.ingress.host) && !self.ingress.host.startsWith('*'))",message="auth.emailVerification needs the shop's public URL for its links: set auth.publicURL, or an enabled ingress with a host that is not a wildcard"
// +kubebuilder:validation:XValidation:rule="!has(self.logging) || !has(self.logging.kibana) || !has(self.logging.kibana.expose) || !self.logging.kibana.expose || (has(self.logging.kibana.allowPlainHTTP) && self.logging.kibana.allowPlainHTTP) || (has(self.ingress) && (!has(self.ingress.enabled) || self.ingress.enabled) && ((has(self.ingress.tlsSecretName) && size(self.ingress.tlsSecretName) > 0) || has(self.ingress.certManager)))",message="logging.kibana.expose publishes a sign-in page for the elastic superuser and needs TLS: set ingress.tlsSecretName or ingress.certManager, or set logging.kibana.allowPlainHTTP: true to serve it without TLS on purpose"
type LittleEcomSpec struct {
	// mongodb stores items, accounts and notifier state: a replica set the operator runs,
	// or an existing MongoDB (mongodb.external).
	// +kubebuilder:default={}
	// +optional
	MongoDB MongoDBSpec `json:"mongodb,omitzero"`

	// rabbitmq carries the item events from backend to notifier.
	// +kubebuilder:default={}
	// +optional
	RabbitMQ RabbitMQSpec `json:"rabbitmq,omitzero"`

	// backend serves the item API.
	// +kubebuilder:default={}
	// +optional
	Backend BackendSpec `json:"backend,omitzero"`

	// auth registers accounts and signs access tokens.
	// +kubebuilder:default={}
	// +optional
	Auth AuthSpec `json:"auth,omitzero"`

	// notifier e-mails sellers and buyers about item events.
	// +kubebuilder:default={}
	// +optional
	Notifier NotifierSpec `json:"notifier,omitzero"`

	// ingress exposes the API through an Ingress with CORS annotations.
	// +kubebuilder:default={}
	// +optional
	Ingress IngressSpec `json:"ingress,omitzero"`

	// gateway exposes the API through a Gateway API HTTPRoute attached to existing Gateways.
	// +optional
	Gateway *GatewaySpec `json:"gateway,omitempty"`

	// monitoring creates Prometheus Operator ServiceMonitors and PodMonitors for the shop's
	// metrics (monitoring_types.go); unset, none are created and those made before are removed.
	// +optional
	Monitoring *MonitoringSpec `json:"monitoring,omitempty"`

	// logging deploys an Elasticsearch/Fluentd/Kibana stack for the shop's logs. Off by
	// default: it needs gigabytes of memory.
	// +kubebuilder:default={}
	// +optional
	Logging LoggingSpec `json:"logging,omitzero"`

	// networkPolicy names the peers outside the shop its NetworkPolicies admit.
	// +optional
	NetworkPolicy NetworkPolicySpec `json:"networkPolicy,omitzero"`

	// tracing sends the services' OpenTelemetry traces to a collector. Off by default.
	// +optional
	Tracing TracingSpec `json:"tracing,omitzero"`
}

// Phase summarises the shop's state for people and printer columns.
// +kubebuilder:validation:Enum=Provisioning;Ready;Degraded
type Phase string

// Phases of a LittleEcom.
const (
	// PhaseProvisioning: some component has not become ready yet since the last spec change.
	PhaseProvisioning Phase = "Provisioning"
	// PhaseReady: every enabled component is ready.
	PhaseReady Phase = "Ready"
	// PhaseDegraded: a component failed or lost readiness after having been ready.
	PhaseDegraded Phase = "Degraded"
)

// LittleEcomStatus is the observed state of the shop.
type LittleEcomStatus struct {
	// observedGeneration is the spec generation the last successful reconcile acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// phase is Provisioning, Ready or Degraded.
	// +optional
	Phase Phase `json:"phase,omitempty"`

	// readyComponents counts ready components out of the enabled ones, e.g. "5/6".
	// +optional
	ReadyComponents string `json:"readyComponents,omitempty"`

	// conditions: Ready plus one per component.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// mongodb reports the replica set.
	// +optional
	MongoDB MongoDBStatus `json:"mongodb,omitzero"`

	// endpoints lists the URLs the shop is reachable at.
	// +optional
	Endpoints EndpointsStatus `json:"endpoints,omitzero"`

	// images lists the image each component runs, whether the spec pins it or it follows
	// the operator's default, and whether a rollout to it is under way.
	// +listType=map
	// +listMapKey=component
	// +optional
	Images []ComponentImage `json:"images,omitempty"`
}

// ImageSource says where a component's image comes from.
// +kubebuilder:validation:Enum=Spec;Operator
type ImageSource string

// Image sources.
const (
	// ImageSourceSpec: the spec names the image; operator upgrades leave it alone.
	ImageSourceSpec ImageSource = "Spec"
	// ImageSourceOperator: the operator's default; an operator upgrade may change it.
	ImageSourceOperator ImageSource = "Operator"
)

// ComponentImage is the image of one component.
type ComponentImage struct {
	// component is mongodb, rabbitmq, backend, auth or notifier.
	Component string `json:"component"`
	// image is the reference the component's pod template carries.
	Image string `json:"image"`
	// source is Spec or Operator.
	// +optional
	Source ImageSource `json:"source,omitempty"`
	// updating is true while some of the component's pods still run an earlier template.
	// +optional
	Updating bool `json:"updating,omitempty"`
	// message says how a rollout goes (MongoDB: which member restarts, the feature
	// compatibility version).
	// +optional
	Message string `json:"message,omitempty"`
}

// MongoDBStatus reports the replica set as the operator last saw it. For an external
// database only state is set (ExternalDatabase): the operator does not manage its members.
type MongoDBStatus struct {
	// replicaSet is the replica-set name.
	// +optional
	ReplicaSet string `json:"replicaSet,omitempty"`
	// state is a one-word summary of the replica set (the ReplicaSetInitialized reason).
	// +optional
	State string `json:"state,omitempty"`
	// initialized is true once replSetInitiate succeeded.
	// +optional
	Initialized bool `json:"initialized,omitempty"`
	// members lists each member and its replica-set state (PRIMARY, SECONDARY, ...).
	// +listType=map
	// +listMapKey=name
	// +optional
	Members []MongoDBMemberStatus `json:"members,omitempty"`
	// primary is the host:port of the current primary.
	// +optional
	Primary string `json:"primary,omitempty"`
}

// MongoDBMemberStatus is one replica-set member.
type MongoDBMemberStatus struct {
	// name is the member's host:port.
	Name string `json:"name"`
	// state is the member's replica-set state, e.g. PRIMARY or SECONDARY.
	// +optional
	State string `json:"state,omitempty"`
}

// EndpointsStatus lists where the shop answers.
type EndpointsStatus struct {
	// api is the base URL of the REST API.
	// +optional
	API string `json:"api,omitempty"`
	// kibana is the URL of Kibana when logging is enabled.
	// +optional
	Kibana string `json:"kibana,omitempty"`
}

// LittleEcom is a whole microservice shop provisioned from one object.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=le,categories=littleecom
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.readyComponents`,description="Ready components out of enabled ones"
// +kubebuilder:printcolumn:name="ReplicaSet",type=string,JSONPath=`.status.mongodb.state`
// +kubebuilder:printcolumn:name="API",type=string,JSONPath=`.status.endpoints.api`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type LittleEcom struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// +kubebuilder:default={}
	// +optional
	Spec LittleEcomSpec `json:"spec"`

	// +optional
	Status LittleEcomStatus `json:"status,omitzero"`
}

// LittleEcomList is a list of LittleEcom.
// +kubebuilder:object:root=true
type LittleEcomList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []LittleEcom `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(SchemeGroupVersion, &LittleEcom{}, &LittleEcomList{})
		return nil
	})
}
