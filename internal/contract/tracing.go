package contract

// OpenTelemetry's standard environment, which the operator sets on the services when
// spec.tracing names a collector and which the services' tracing package reads (the SDK and
// its OTLP exporter read the rest of OTEL_* themselves).
const (
	// EnvOTelEndpoint is the OTLP base URL (http://collector:4318); traces go to /v1/traces.
	EnvOTelEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT"
	// EnvOTelTracesEndpoint is the full URL for traces; it wins over EnvOTelEndpoint.
	EnvOTelTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	// EnvOTelProtocol must be OTelProtocolHTTPProtobuf when set: the only one built in.
	EnvOTelProtocol = "OTEL_EXPORTER_OTLP_PROTOCOL"
	// EnvOTelSDKDisabled "true" turns tracing off whatever the endpoint.
	EnvOTelSDKDisabled = "OTEL_SDK_DISABLED"
	// EnvOTelTracesExporter "none" turns tracing off whatever the endpoint.
	EnvOTelTracesExporter = "OTEL_TRACES_EXPORTER"
	// EnvOTelTracesSampler and EnvOTelTracesSamplerArg choose the sampler
	// (parentbased_traceidratio with a ratio in 0..1, as the operator sets them).
	EnvOTelTracesSampler    = "OTEL_TRACES_SAMPLER"
	EnvOTelTracesSamplerArg = "OTEL_TRACES_SAMPLER_ARG"
	// EnvOTelResourceAttributes adds key=value,... to every span's resource.
	EnvOTelResourceAttributes = "OTEL_RESOURCE_ATTRIBUTES"
)

// OTelProtocolHTTPProtobuf is OTLP over HTTP with protobuf bodies.
const OTelProtocolHTTPProtobuf = "http/protobuf"

// OTelSamplerParentBasedRatio samples a fraction of new traces and follows the caller's
// decision for the others.
const OTelSamplerParentBasedRatio = "parentbased_traceidratio"
