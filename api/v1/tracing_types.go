package v1

// TracingSpec sends the services' traces to an OpenTelemetry collector. Unset (the
// default), the services record no spans and export nothing; they still pass a caller's
// trace context on, so a trace that starts before the shop is not broken by it.
type TracingSpec struct {
	// otlpEndpoint is the collector's OTLP/HTTP base URL, e.g.
	// http://otel-collector.observability:4318: auth, backend and notifier send their spans
	// to <otlpEndpoint>/v1/traces (OTEL_EXPORTER_OTLP_ENDPOINT). Empty turns tracing off.
	// +optional
	OTLPEndpoint OTLPEndpoint `json:"otlpEndpoint,omitempty"`

	// samplingPercent is the share of new traces the services record, 0 to 100 (default
	// 100). A request that arrives with a trace context follows its caller's decision, so a
	// trace is kept whole or not at all.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	SamplingPercent *int32 `json:"samplingPercent,omitempty"`
}

// OTLPEndpoint is an http or https URL with a host, optional port and optional path.
// +kubebuilder:validation:MaxLength=512
// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && size(url(self).getHostname()) > 0 && url(self).getQuery().size() == 0",message="otlpEndpoint must be the collector's OTLP/HTTP base URL with scheme and host, such as http://otel-collector.observability:4318"
type OTLPEndpoint string
