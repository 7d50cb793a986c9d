package tracing_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/tracing"
	"littleecom.io/littleecom/services/internal/tracing/tracingtest"
)

const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func unsetOTel(t *testing.T) {
	for _, k := range []string{contract.EnvOTelEndpoint, contract.EnvOTelTracesEndpoint, contract.EnvOTelSDKDisabled,
		contract.EnvOTelTracesExporter, contract.EnvOTelProtocol, "OTEL_SERVICE_NAME"} {
		t.Setenv(k, "")
	}
}

// Without an endpoint nothing records or exports, and a caller's trace context still goes
// through the service to what it calls: over HTTP and into AMQP headers.
func TestSetup_UnconfiguredRecordsNothingButPropagates(t *testing.T) {
	unsetOTel(t)
	tr, err := tracing.Setup(context.Background(), "backend", quiet())
	if err != nil {
		t.Fatal(err)
	}
	if tr.Exporting {
		t.Fatal("tracing exports without an endpoint")
	}

	var downstream, amqpParent string
	down := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		downstream = r.Header.Get("traceparent")
	}))
	defer down.Close()
	client := &http.Client{Transport: tracing.Transport(nil, tr.Provider)}
	mux := http.NewServeMux()
	mux.Handle("GET /item/{id}", tracing.Route("GET /item/{id}", http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		if trace.SpanFromContext(r.Context()).IsRecording() {
			t.Error("the server span records without an endpoint")
		}
		_, span := tracing.Tracer(tr.Provider).Start(r.Context(), "publish")
		if span.IsRecording() {
			t.Error("a service span records without an endpoint")
		}
		span.End()
		amqpParent = tracing.AMQPCarrier(tracing.InjectAMQP(r.Context(), nil)).Get("traceparent")
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, down.URL, nil)
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
		}
	})))
	srv := httptest.NewServer(tracing.HTTPHandler(mux, tr.Provider))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/item/42", nil)
	req.Header.Set("traceparent", incoming)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()

	for name, got := range map[string]string{"http": downstream, "amqp": amqpParent} {
		if traceID(got) != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("%s traceparent downstream = %q, want the caller's trace", name, got)
		}
	}
}

// OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none win over an endpoint: the receiver
// gets nothing.
func TestSetup_TurnedOffExportsNothing(t *testing.T) {
	rcv := tracingtest.Start(t)
	for _, off := range [][2]string{{contract.EnvOTelSDKDisabled, "true"}, {contract.EnvOTelTracesExporter, "none"}} {
		unsetOTel(t)
		t.Setenv(contract.EnvOTelEndpoint, rcv.URL)
		t.Setenv(off[0], off[1])
		tr, err := tracing.Setup(context.Background(), "backend", quiet())
		if err != nil {
			t.Fatal(err)
		}
		_, span := tracing.Tracer(tr.Provider).Start(context.Background(), "work")
		span.End()
		if err := tr.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if tr.Exporting || len(rcv.Spans()) != 0 {
			t.Errorf("%s=%s: exporting=%v, %d spans received", off[0], off[1], tr.Exporting, len(rcv.Spans()))
		}
	}
}

func TestSetup_RefusesGRPC(t *testing.T) {
	unsetOTel(t)
	t.Setenv(contract.EnvOTelEndpoint, "http://127.0.0.1:4317")
	t.Setenv(contract.EnvOTelProtocol, "grpc")
	if _, err := tracing.Setup(context.Background(), "backend", quiet()); err == nil {
		t.Fatal("grpc accepted, but only OTLP/HTTP is built in")
	}
}

// With an endpoint, server spans reach the collector named after their route, in the
// caller's trace, with the service's name; Shutdown flushes them.
func TestNew_ExportsServerSpansNamedByRoute(t *testing.T) {
	rcv := tracingtest.Start(t)
	unsetOTel(t)
	t.Setenv(contract.EnvOTelEndpoint, rcv.URL)
	tr, err := tracing.New(context.Background(), "backend")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /item/{id}", tracing.Route("GET /item/{id}", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	// Middleware between the span and the mux, as httpx.Stack has.
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
	})
	srv := httptest.NewServer(tracing.HTTPHandler(h, tr.Provider))
	defer srv.Close()
	for _, path := range []string{"/item/42", "/nowhere/7"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("traceparent", incoming)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	spans := rcv.Spans()
	if len(spans) != 2 {
		t.Fatalf("received %d spans, want 2: %+v", len(spans), spans)
	}
	byName := map[string]tracingtest.Span{}
	for _, s := range spans {
		byName[s.Name] = s
		if s.Service != "backend" || s.Kind != "SPAN_KIND_SERVER" || s.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" ||
			s.ParentID != "00f067aa0ba902b7" {
			t.Errorf("span %+v: want a server span of backend in the caller's trace", s)
		}
	}
	if s, ok := byName["GET /item/{id}"]; !ok || s.Attrs["http.route"] != "/item/{id}" {
		t.Errorf("no span named after the route with http.route /item/{id}: %+v", spans)
	}
	if _, ok := byName["GET"]; !ok {
		t.Errorf("the unrouted request's span is not named by its method alone: %+v", spans)
	}
}

func TestStored_RoundTrip(t *testing.T) {
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": incoming})
	st := tracing.Store(ctx)
	if st.Parent != incoming {
		t.Fatalf("stored %q, want %q", st.Parent, incoming)
	}
	sc := trace.SpanContextFromContext(st.Context(context.Background()))
	if sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || !sc.IsRemote() {
		t.Errorf("restored %+v", sc)
	}
	if (tracing.Store(context.Background()) != tracing.Stored{}) {
		t.Error("a context without a span stored something")
	}
}

func traceID(traceparent string) string {
	if len(traceparent) < 35 {
		return ""
	}
	return traceparent[3:35]
}

// BenchmarkHTTPHandler is the per-request cost of HTTPHandler with tracing off, against a
// bare handler: every request of every service pays it.
func BenchmarkHTTPHandler(b *testing.B) {
	bare := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	for _, bench := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", bare},
		{"tracing_off", tracing.HTTPHandler(tracing.Route("GET /item/{id}", bare), tracing.Disabled().Provider)},
	} {
		b.Run(bench.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/item/42", nil)
			r.Header.Set("traceparent", incoming)
			b.ReportAllocs()
			for b.Loop() {
				bench.h.ServeHTTP(httptest.NewRecorder(), r)
			}
		})
	}
}
