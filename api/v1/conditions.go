package v1

// Condition types: Ready plus one per component.
const (
	ConditionReady                 = "Ready"
	ConditionMongoDBReady          = "MongoDBReady"
	ConditionReplicaSetInitialized = "ReplicaSetInitialized"
	ConditionRabbitMQReady         = "RabbitMQReady"
	ConditionBackendReady          = "BackendReady"
	ConditionAuthReady             = "AuthReady"
	ConditionNotifierReady         = "NotifierReady"
	ConditionIngressReady          = "IngressReady"
	ConditionLoggingReady          = "LoggingReady"
	// ConditionPaused is True while the shop carries PausedAnnotation; absent otherwise.
	ConditionPaused = "Paused"
)

// PausedAnnotation, set to "true" on a LittleEcom, stops the operator from changing the
// shop's children (cluster-api's paused): for hand repairs and maintenance. Status keeps
// what it last observed, plus the Paused condition. Deletion still proceeds.
const PausedAnnotation = "shop.littleecom.io/paused"

// ReasonPausedByAnnotation: the shop carries PausedAnnotation.
const ReasonPausedByAnnotation = "PausedByAnnotation"

// Condition reasons, CamelCase as metav1.Condition requires.
const (
	// ReasonReady: every replica is ready and up to date.
	ReasonReady = "Ready"
	// ReasonProgressing: the workload is rolling out or waiting for replicas.
	ReasonProgressing = "Progressing"
	// ReasonScaledToZero: replicas is 0 by request.
	ReasonScaledToZero = "ScaledToZero"
	// ReasonDisabled: the component is switched off in the spec.
	ReasonDisabled = "Disabled"
	// ReasonReconcileFailed: the operator could not create or update a child.
	ReasonReconcileFailed = "ReconcileFailed"
	// ReasonComponentsNotReady: Ready is False because some component is not ready.
	ReasonComponentsNotReady = "ComponentsNotReady"
	// ReasonAllComponentsReady: Ready is True.
	ReasonAllComponentsReady = "AllComponentsReady"
	// ReasonSMTPNotConfigured: the notifier runs but has no relay to send through.
	ReasonSMTPNotConfigured = "SMTPNotConfigured"
)

// Replica-set reasons for ConditionReplicaSetInitialized (and status.mongodb.state).
const (
	ReasonWaitingForPods = "WaitingForPods"
	ReasonInitiating     = "Initiating"
	ReasonInitialized    = "Initialized"
	ReasonReconfiguring  = "Reconfiguring"
	ReasonUnreachable    = "Unreachable"
	// ReasonRejected: MongoDB refused what the operator asked for a reason that waiting does
	// not fix (an invalid replica-set config, root credentials it does not accept, a set
	// started under another name); the message quotes the refusal. The operator does not
	// retry until the spec or the Secrets change (or, for a fix made by hand, ten minutes).
	ReasonRejected = "Rejected"
	// ReasonExternalDatabase: spec.mongodb.external; the operator runs no replica set, so
	// ReplicaSetInitialized is False with this reason and does not count towards Ready.
	ReasonExternalDatabase = "ExternalDatabase"
)

// External database reasons for ConditionMongoDBReady (spec.mongodb.external). Their
// messages name the Secret, its keys and the hosts, never a password or the URI's
// credentials.
const (
	// ReasonExternalReachable: the database answered a ping with the Secret's credentials.
	ReasonExternalReachable = "ExternalReachable"
	// ReasonExternalUnreachable: no server answered the ping in time.
	ReasonExternalUnreachable = "ExternalUnreachable"
	// ReasonExternalAuthFailed: a server answered and refused the credentials.
	ReasonExternalAuthFailed = "ExternalAuthFailed"
	// ReasonExternalSecretMissing: the Secret, or its URI key, is not there.
	ReasonExternalSecretMissing = "ExternalSecretMissing"
	// ReasonExternalSecretInvalid: the URI is no valid mongodb:// or mongodb+srv:// string.
	ReasonExternalSecretInvalid = "ExternalSecretInvalid"
)

// Edge reasons for ConditionIngressReady (Ingress and Gateway API HTTPRoute).
const (
	// ReasonWaitingForAddress: the Ingress exists; its controller has not published an address.
	ReasonWaitingForAddress = "WaitingForAddress"
	// ReasonGatewayAPINotInstalled: spec.gateway asks for an HTTPRoute but the cluster has no
	// Gateway API CRDs (gateway.networking.k8s.io/v1 HTTPRoute).
	ReasonGatewayAPINotInstalled = "GatewayAPINotInstalled"
	// ReasonWaitingForGateway: the HTTPRoute exists; no Gateway controller has reported on it.
	ReasonWaitingForGateway = "WaitingForGateway"
	// ReasonRouteNotAccepted: a parent Gateway refused the HTTPRoute (Accepted=False).
	ReasonRouteNotAccepted = "RouteNotAccepted"
	// ReasonRouteRefsUnresolved: a parent Gateway cannot resolve the route's backends
	// (ResolvedRefs=False).
	ReasonRouteRefsUnresolved = "RouteRefsUnresolved"
)
