package eventchain_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/logging"
	"littleecom.io/littleecom/services/internal/testinfra"
	"littleecom.io/littleecom/services/internal/tokens"
	"littleecom.io/littleecom/services/internal/tracing"
	"littleecom.io/littleecom/services/internal/tracing/tracingtest"
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

	var logs testinfra.SyncBuffer
	shop := startChainShop(t, chainOptions{
		vhost: testinfra.AMQPVHost(t), log: logging.NewTo(&logs, "test", "info", "json"), tracing: providers,
	})
	jwksRoute := "GET " + contract.PathJWKS

	id := call(t, shop.api, shop.signer, "sam@shop.example", http.MethodPost, "/item", `{"name":"brass lamp","price":12}`, http.StatusCreated)
	call(t, shop.api, shop.signer, "bea@shop.example", http.MethodPost, "/buy/"+id, "", http.StatusOK)
	wctx, wcancel := context.WithTimeout(shop.ctx, time.Minute) // generous: a loaded CI machine
	defer wcancel()
	if _, err := shop.sink.WaitFor(wctx, 3); err != nil { // listed, bought, sold
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
