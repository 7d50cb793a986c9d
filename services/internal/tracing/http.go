package tracing

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// HTTPHandler gives every request a server span, continuing the caller's trace from its
// traceparent header. Route names the span after the ServeMux pattern once routed; a
// request no route matched keeps its method alone, never the raw path (it holds ids).
func HTTPHandler(h http.Handler, tp trace.TracerProvider) http.Handler {
	if _, off := provider(tp).(noop.TracerProvider); off {
		// Tracing off: only continue the caller's trace (for the AMQP headers and outgoing
		// calls downstream, and the trace id in the logs). otelhttp with a no-op provider
		// would do the same at ~10x the cost of a bare handler on every request (measured:
		// 7.7 us and 25 allocations against 0.6 us and 4, 2 shared cores).
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))))
		})
	}
	return otelhttp.NewHandler(h, "http.server",
		otelhttp.WithTracerProvider(provider(tp)),
		otelhttp.WithPropagators(Propagator),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if r.Pattern != "" {
				return r.Pattern
			}
			return r.Method
		}),
	)
}

// Route names the request's server span after its route pattern ("POST /buy/{id}"). The
// ServeMux sets the pattern on its own copy of the request, out of HTTPHandler's sight
// when middleware sits between them, so each route says it itself.
func Route(pattern string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
			span.SetName(pattern)
			span.SetAttributes(attribute.String("http.route", path(pattern)))
		}
		next.ServeHTTP(w, r)
	})
}

// Transport gives outgoing requests a client span and the traceparent header. A nil base
// is http.DefaultTransport.
func Transport(base http.RoundTripper, tp trace.TracerProvider) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return otelhttp.NewTransport(base, otelhttp.WithTracerProvider(provider(tp)), otelhttp.WithPropagators(Propagator))
}

// path is the path template of a ServeMux pattern, as http.route wants it.
func path(pattern string) string {
	if _, p, ok := strings.Cut(pattern, " "); ok {
		return p
	}
	return pattern
}
