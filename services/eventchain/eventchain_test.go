// Package eventchain_test runs the backend and the notifier together, as the shop runs
// them, to test what neither can alone: the way of an event from a request to an e-mail.
package eventchain_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/mailsink"
	"littleecom.io/littleecom/services/backend"
	"littleecom.io/littleecom/services/backend/relay"
	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/metrics"
	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/internal/testinfra"
	"littleecom.io/littleecom/services/internal/tokens"
	"littleecom.io/littleecom/services/notifier"
)

// An item added while RabbitMQ is unreachable from the backend is added all the same, and
// its e-mail reaches the seller once RabbitMQ is back, exactly once. Real parts throughout:
// FerretDB, RabbitMQ (reached by the backend through a proxy that stands for the outage),
// the backend and the notifier as their mains run them, and an SMTP server.
func TestItemAddedWhileBrokerDown_MailedAfterItReturns(t *testing.T) {
	vhost := testinfra.AMQPVHost(t)
	u, _ := url.Parse(vhost)
	proxy := testinfra.NewProxy(t, u.Host) // not started: the broker is down for the backend
	viaProxy := *u
	viaProxy.Host = proxy.Addr
	mongoURI := testinfra.StartFerretDB(t)
	sink, err := mailsink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	// auth's part: a signer and its JWKS, which the backend fetches to verify tokens.
	signer := tokens.NewSigner(tokens.GenerateKey(), contract.DefaultIssuer, contract.DefaultAudience, 15*time.Minute)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(signer.JWKS())
	}))
	t.Cleanup(jwks.Close)

	app, err := backend.Start(ctx, backend.Config{
		Mongo: mongox.Config{URI: mongoURI, Database: contract.DatabaseBackend, ConnectTimeout: 5 * time.Second},
		AMQP: relay.Config{RecordAfter: 100 * time.Millisecond,
			Conn: amqpx.Config{URL: viaProxy.String(), ReconnectMax: 200 * time.Millisecond, DialTimeout: time.Second}},
		JWKSURL:         jwks.URL + contract.PathJWKS,
		Issuer:          contract.DefaultIssuer,
		Audience:        contract.DefaultAudience,
		ShutdownTimeout: 5 * time.Second,
	}, log)
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
	}, client.Database(contract.DatabaseNotifier), metrics.New("notifier"), log)
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

	tok, _, err := signer.Sign("ann@shop.example", "sub-ann")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, api.URL+"/item", strings.NewReader(`{"name":"brass lamp","price":12}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /item while the broker is down = %d, want 201", resp.StatusCode)
	}
	time.Sleep(500 * time.Millisecond)
	if c := sink.Count(); c != 0 {
		t.Fatalf("%d e-mails while the backend could not reach the broker", c)
	}

	proxy.Start()
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	got, err := sink.WaitFor(wctx, 1)
	if err != nil {
		t.Fatalf("no e-mail after the broker came back: %v", err)
	}
	if got[0].To[0] != "ann@shop.example" || !strings.Contains(got[0].Subject, "brass lamp") {
		t.Fatalf("e-mail = %+v, want the seller's notice of the brass lamp", got[0])
	}
	time.Sleep(time.Second) // a second e-mail would come within this
	if c := sink.Count(); c != 1 {
		t.Fatalf("%d e-mails for one event, want 1", c)
	}
}
