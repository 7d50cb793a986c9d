package eventchain_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/mailsink"
	"littleecom.io/littleecom/services/backend"
	"littleecom.io/littleecom/services/backend/relay"
	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/logging"
	"littleecom.io/littleecom/services/internal/metrics"
	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/internal/testinfra"
	"littleecom.io/littleecom/services/internal/tokens"
	"littleecom.io/littleecom/services/internal/tracing"
	"littleecom.io/littleecom/services/internal/tracing/tracingtest"
	"littleecom.io/littleecom/services/notifier"
)

// A purchase is one trace from the request to the e-mails: the backend's POST /buy/{id}
// server span, the relay's publication of the buy event (a child of the request, though it
// happens after the response), the notifier's processing of the message (a child of the
// publication, through the message headers) and its hand-over of each e-mail to the SMTP
// server (children of the processing). The services run as their mains run them, each with
// its own tracer provider exporting over OTLP/HTTP to a receiver on 127.0.0.1; RabbitMQ,
// FerretDB and the SMTP server are real. The backend's fetch of auth's keys is traced too,
// into auth's server span, and the backend's request log line carries the trace id.
func TestPurchase_OneTraceFromRequestToEmail(t *testing.T) {
	rcv := tracingtest.Start(t)
	t.Setenv(contract.EnvOTelEndpoint, rcv.URL)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "100") // ms: spans reach the receiver soon after they end
	t.Setenv("OTEL_SERVICE_NAME", "")
	providers := map[string]*tracing.Tracing{}
	for _, name := range []string{"auth", "backend", "notifier"} {
		tr, err := tracing.New(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
		providers[name] = tr
	}

	vhost := testinfra.AMQPVHost(t)
	mongoURI := testinfra.StartFerretDB(t)
	sink, err := mailsink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	var logs syncBuffer
	log := logging.NewTo(&logs, "test", "info", "json")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	// auth's part: its JWKS behind auth's own HTTP tracing.
	signer := tokens.NewSigner(tokens.GenerateKey(), contract.DefaultIssuer, contract.DefaultAudience, 15*time.Minute)
	authMux := http.NewServeMux()
	jwksRoute := "GET " + contract.PathJWKS
	authMux.Handle(jwksRoute, tracing.Route(jwksRoute, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(signer.JWKS())
	})))
	jwks := httptest.NewServer(tracing.HTTPHandler(authMux, providers["auth"].Provider))
	t.Cleanup(jwks.Close)

	app, err := backend.Start(ctx, backend.Config{
		Mongo:           mongox.Config{URI: mongoURI, Database: contract.DatabaseBackend, ConnectTimeout: 5 * time.Second},
		AMQP:            relay.Config{Conn: amqpx.Config{URL: vhost, ReconnectMax: 200 * time.Millisecond, DialTimeout: time.Second}},
		JWKSURL:         jwks.URL + contract.PathJWKS,
		Issuer:          contract.DefaultIssuer,
		Audience:        contract.DefaultAudience,
		ShutdownTimeout: 5 * time.Second,
		Tracing:         providers["backend"].Provider,
	}, log.With("service", "backend"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Close(context.Background()) })
	api := httptest.NewServer(app.Handler())
	t.Cleanup(api.Close)

	client, err := mongox.Connect(ctx, mongox.Config{URI: mongoURI, ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	n, err := notifier.New(notifier.Config{
		AMQP:     amqpx.Config{URL: vhost, ReconnectMax: 200 * time.Millisecond},
		Prefetch: 8, Workers: 4, MaxAttempts: 3,
		SMTP: notifier.SMTPConfig{Host: sink.Host(), Port: sink.Port(), From: "LittleEcom <no-reply@littleecom.test>",
			StartTLS: contract.SMTPStartTLSIfAvailable},
		Tracing: providers["notifier"].Provider,
	}, client.Database(contract.DatabaseNotifier), metrics.New("notifier"), log.With("service", "notifier"))
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Errorf("notifier Run: %v", err)
		}
	})

	id := call(t, api.URL, signer, "sam@shop.example", http.MethodPost, "/item", `{"name":"brass lamp","price":12}`, http.StatusCreated)
	call(t, api.URL, signer, "bea@shop.example", http.MethodPost, "/buy/"+id, "", http.StatusOK)
	wctx, wcancel := context.WithTimeout(ctx, time.Minute) // generous: a loaded CI machine
	defer wcancel()
	if _, err := sink.WaitFor(wctx, 3); err != nil { // listed, bought, sold
		t.Fatalf("e-mails: %v", err)
	}

	// Wait for the whole chain: the e-mails are out, their spans follow within the batch delay.
	var chain purchase
	spans, err := rcv.WaitFor(wctx, func(spans []tracingtest.Span) bool {
		chain = findPurchase(spans)
		return chain.complete()
	})
	if err != nil {
		t.Fatalf("no complete trace of the purchase: %v; found %+v among\n%s", err, chain, dump(spans))
	}
	if chain.buy.Service != "backend" || chain.buy.Kind != "SPAN_KIND_SERVER" || chain.buy.Attrs["http.route"] != "/buy/{id}" {
		t.Errorf("request span %+v", chain.buy)
	}
	if chain.publish.Service != "backend" || chain.publish.Kind != "SPAN_KIND_PRODUCER" ||
		chain.publish.Attrs["messaging.rabbitmq.destination.routing_key"] != contract.RoutingKeyItemBought {
		t.Errorf("publication span %+v", chain.publish)
	}
	if chain.process.Service != "notifier" || chain.process.Kind != "SPAN_KIND_CONSUMER" {
		t.Errorf("processing span %+v", chain.process)
	}
	for _, s := range chain.sends {
		if s.Service != "notifier" || s.Kind != "SPAN_KIND_CLIENT" {
			t.Errorf("SMTP span %+v", s)
		}
	}

	// The backend fetches auth's keys when it starts (and then in the background), outside any
	// request: the fetch is a trace of its own, the backend's client span with auth's server
	// span under it, which shows the trace context crossing that HTTP call too.
	var fetch, served tracingtest.Span
	for _, s := range spans {
		if s.Service == "backend" && s.Kind == "SPAN_KIND_CLIENT" {
			fetch = s
		}
	}
	for _, s := range spans {
		if s.Service == "auth" && s.Name == jwksRoute && s.TraceID == fetch.TraceID && s.ParentID == fetch.SpanID {
			served = s
		}
	}
	if fetch.SpanID == "" || served.SpanID == "" {
		t.Errorf("no key fetch with auth's span under it (fetch %+v, auth %+v) among\n%s", fetch, served, dump(spans))
	}

	// Logs and traces join: the backend's line for the buy request names its trace.
	if !logged(logs.String(), "POST /buy/{id}", chain.buy.TraceID, chain.buy.SpanID) {
		t.Errorf("no request log line for POST /buy/{id} with trace_id %s and span_id %s in\n%s",
			chain.buy.TraceID, chain.buy.SpanID, logs.String())
	}
}

// purchase is the chain of spans a purchase leaves.
type purchase struct {
	buy, publish, process tracingtest.Span
	sends                 []tracingtest.Span
}

func (p purchase) complete() bool { return p.process.SpanID != "" && len(p.sends) == 2 }

// findPurchase follows the parent links down from the POST /buy/{id} server span, within
// its trace.
func findPurchase(spans []tracingtest.Span) purchase {
	var p purchase
	child := func(parent tracingtest.Span, name string) (out []tracingtest.Span) {
		for _, s := range spans {
			if parent.SpanID != "" && s.TraceID == parent.TraceID && s.ParentID == parent.SpanID && s.Name == name {
				out = append(out, s)
			}
		}
		return out
	}
	for _, s := range spans {
		if s.Name == "POST /buy/{id}" {
			p.buy = s
		}
	}
	if c := child(p.buy, "publish "+contract.Exchange); len(c) == 1 {
		p.publish = c[0]
	}
	if c := child(p.publish, "process "+contract.QueueItemBought); len(c) == 1 {
		p.process = c[0]
	}
	p.sends = child(p.process, "smtp send")
	return p
}

func logged(logs, route, traceID, spanID string) bool {
	for line := range strings.SplitSeq(logs, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if rec["msg"] == "request" && rec["route"] == route && rec["trace_id"] == traceID && rec["span_id"] == spanID {
			return true
		}
	}
	return false
}

func dump(spans []tracingtest.Span) string {
	var b strings.Builder
	for _, s := range spans {
		fmt.Fprintf(&b, "  %s %q %s trace=%s span=%s parent=%s\n", s.Service, s.Name, s.Kind, s.TraceID, s.SpanID, s.ParentID)
	}
	return b.String()
}

// call sends an authenticated request as email and returns the body, failing unless the
// status is want.
func call(t *testing.T, base string, signer *tokens.Signer, email, method, path, body string, want int) string {
	t.Helper()
	tok, _, err := signer.Sign(email, "sub-"+email)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, resp.StatusCode, b.String(), want)
	}
	return strings.TrimSpace(b.String())
}

// syncBuffer is a bytes.Buffer safe for the services' concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
