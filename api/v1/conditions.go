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
)

// Condition reasons, CamelCase as metav1.Condition requires.
const (
	// ReasonReady: every replica is ready and up to date.
	ReasonReady = "Ready"
	// ReasonProgressing: the workload is rolling out or waiting for replicas.
	ReasonProgressing = "Progressing"
	// ReasonUnavailable: the workload had been ready and lost readiness.
	ReasonUnavailable = "Unavailable"
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
)
