// Package tracing sets up OpenTelemetry for the services: the W3C trace-context and baggage
// propagators always, and an SDK tracer provider exporting over OTLP/HTTP only when an
// endpoint is configured through the standard environment (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). Unconfigured, spans are OpenTelemetry's no-op ones:
// nothing is recorded or exported, yet an incoming trace context still flows through to
// outgoing requests and messages, so a caller's trace is not broken by a service that does
// not export.
//
// Everything else the SDK and the exporter read themselves from their OTEL_* variables
// (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and _ARG,
// OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, OTEL_BSP_*), so the operator and the
// OpenTelemetry documentation speak the same language.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/version"
)

// instrumentation names the tracer of the services' own spans.
const instrumentation = "littleecom.io/littleecom/services"

// Propagator is the W3C trace context plus baggage, the propagation every service uses on
// HTTP and AMQP alike.
var Propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(
	propagation.TraceContext{}, propagation.Baggage{})

// Tracing is a service's tracer provider and what stops it.
type Tracing struct {
	// Provider makes the service's tracers: the SDK's when exporting, a no-op one otherwise.
	Provider trace.TracerProvider
	// Exporting says whether spans leave the process.
	Exporting bool
	shutdown  func(context.Context) error
}

// Disabled is tracing that records nothing and still propagates.
func Disabled() *Tracing {
	return &Tracing{Provider: noop.NewTracerProvider(), shutdown: func(context.Context) error { return nil }}
}

// Configured reports whether the environment names an OTLP endpoint for traces and has not
// turned the SDK or the traces exporter off.
func Configured() bool {
	if strings.EqualFold(strings.TrimSpace(os.Getenv(contract.EnvOTelSDKDisabled)), "true") ||
		strings.EqualFold(strings.TrimSpace(os.Getenv(contract.EnvOTelTracesExporter)), "none") {
		return false
	}
	return strings.TrimSpace(os.Getenv(contract.EnvOTelTracesEndpoint)) != "" ||
		strings.TrimSpace(os.Getenv(contract.EnvOTelEndpoint)) != ""
}

// Setup returns the service's tracing from the environment and makes it the process-wide
// default (otel.SetTracerProvider, otel.SetTextMapPropagator), so that code not handed a
// provider uses it. service is service.name unless OTEL_SERVICE_NAME says otherwise.
// Unconfigured, it returns Disabled() and the cost is a no-op span per operation.
func Setup(ctx context.Context, service string, log *slog.Logger) (*Tracing, error) {
	otel.SetTextMapPropagator(Propagator)
	if !Configured() {
		log.Debug("tracing off: no OTLP endpoint configured")
		t := Disabled()
		otel.SetTracerProvider(t.Provider)
		return t, nil
	}
	if p := strings.TrimSpace(os.Getenv(contract.EnvOTelProtocol)); p != "" && p != contract.OTelProtocolHTTPProtobuf {
		// Only OTLP/HTTP is built in: the gRPC exporter would double the services' size for
		// what every collector also accepts on HTTP.
		return nil, fmt.Errorf("%s=%q: only %s is supported", contract.EnvOTelProtocol, p, contract.OTelProtocolHTTPProtobuf)
	}
	t, err := New(ctx, service)
	if err != nil {
		return nil, err
	}
	otel.SetTracerProvider(t.Provider)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		// An unreachable collector must not stop the shop; it is worth a warning.
		log.Warn("tracing: export failed", "err", err)
	}))
	log.Info("tracing on: exporting spans over OTLP/HTTP", "endpoint", endpoint())
	return t, nil
}

// New returns an exporting Tracing for service from the environment, without touching the
// process-wide defaults (tests run several services in one process).
func New(ctx context.Context, service string) (*Tracing, error) {
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	// Later options win: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the defaults.
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(
			attribute.String("service.name", service),
			attribute.String("service.version", version.Version()),
		),
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	// The sampler comes from OTEL_TRACES_SAMPLER (parent-based always-on by default).
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Tracing{Provider: tp, Exporting: true, shutdown: tp.Shutdown}, nil
}

// Shutdown flushes the spans still batched and stops the exporter. Call it once the
// service stopped serving, with a bounded context.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if err := t.shutdown(ctx); err != nil {
		return fmt.Errorf("tracing shutdown: %w", err)
	}
	return nil
}

// flushTimeout bounds the flush of the last spans when a service stops.
const flushTimeout = 5 * time.Second

// Flush is Shutdown for a service's main on its way out: bounded by flushTimeout even when
// ctx has ended (the stop signal cancels it), and a failure only logged, since the
// service's own result matters more than its last spans.
func (t *Tracing) Flush(ctx context.Context, log *slog.Logger) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	if err := t.Shutdown(sctx); err != nil {
		log.Warn("spans not flushed at stop", "err", err)
	}
}

// Tracer returns the services' tracer of tp, or of the process-wide provider when tp is nil.
func Tracer(tp trace.TracerProvider) trace.Tracer {
	return provider(tp).Tracer(instrumentation, trace.WithInstrumentationVersion(version.Version()))
}

func provider(tp trace.TracerProvider) trace.TracerProvider {
	if tp == nil {
		return otel.GetTracerProvider()
	}
	return tp
}

// endpoint is the configured endpoint, for the start-up log (it carries no credentials:
// those go in OTEL_EXPORTER_OTLP_HEADERS, which is never logged).
func endpoint() string {
	if e := strings.TrimSpace(os.Getenv(contract.EnvOTelTracesEndpoint)); e != "" {
		return e
	}
	return strings.TrimSpace(os.Getenv(contract.EnvOTelEndpoint))
}
