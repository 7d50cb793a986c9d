package eventchain_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
	"littleecom.io/littleecom/services/internal/tracing"
	"littleecom.io/littleecom/services/notifier"
)

// chainShop is the backend and the notifier as their mains run them, on FerretDB, a RabbitMQ
// vhost and an SMTP server, with auth's part reduced to a signer and its JWKS.
type chainShop struct {
	ctx    context.Context // ends when the test does
	api    string          // the backend's base URL
	signer *tokens.Signer
	sink   *mailsink.Sink
}

// chainOptions vary the shop per test.
type chainOptions struct {
	vhost string
	// backendAMQP is where the backend reaches the broker (a proxy standing for an outage);
	// empty: vhost.
	backendAMQP string
	recordAfter time.Duration
	log         *slog.Logger
	// tracing has a provider per service ("auth", "backend", "notifier"); nil: none.
	tracing map[string]*tracing.Tracing
}

func startChainShop(t *testing.T, o chainOptions) *chainShop {
	t.Helper()
	mongoURI := testinfra.StartFerretDB(t)
	sink, err := mailsink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	provider := func(service string) *tracing.Tracing { return o.tracing[service] }

	signer := tokens.NewSigner(tokens.GenerateKey(), contract.DefaultIssuer, contract.DefaultAudience, 15*time.Minute)
	authMux := http.NewServeMux()
	jwksRoute := "GET " + contract.PathJWKS
	authMux.Handle(jwksRoute, tracing.Route(jwksRoute, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(signer.JWKS())
	})))
	var authHandler http.Handler = authMux
	if tr := provider("auth"); tr != nil {
		authHandler = tracing.HTTPHandler(authMux, tr.Provider)
	}
	jwks := httptest.NewServer(authHandler)
	t.Cleanup(jwks.Close)

	backendAMQP := o.backendAMQP
	if backendAMQP == "" {
		backendAMQP = o.vhost
	}
	bcfg := backend.Config{
		Mongo: mongox.Config{URI: mongoURI, Database: contract.DatabaseBackend, ConnectTimeout: 5 * time.Second},
		AMQP: relay.Config{RecordAfter: o.recordAfter,
			Conn: amqpx.Config{URL: backendAMQP, ReconnectMax: 200 * time.Millisecond, DialTimeout: time.Second}},
		JWKSURL:         jwks.URL + contract.PathJWKS,
		Issuer:          contract.DefaultIssuer,
		Audience:        contract.DefaultAudience,
		ShutdownTimeout: 5 * time.Second,
	}
	ncfg := notifier.Config{
		AMQP:     amqpx.Config{URL: o.vhost, ReconnectMax: 200 * time.Millisecond},
		Prefetch: 8, Workers: 4, MaxAttempts: 3,
		SMTP: notifier.SMTPConfig{Host: sink.Host(), Port: sink.Port(), From: "LittleEcom <no-reply@littleecom.test>",
			StartTLS: contract.SMTPStartTLSIfAvailable},
	}
	if tr := provider("backend"); tr != nil {
		bcfg.Tracing = tr.Provider
	}
	if tr := provider("notifier"); tr != nil {
		ncfg.Tracing = tr.Provider
	}

	app, err := backend.Start(ctx, bcfg, o.log.With("service", "backend"))
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
	n, err := notifier.New(ncfg, client.Database(contract.DatabaseNotifier), metrics.New("notifier"), o.log.With("service", "notifier"))
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
	return &chainShop{ctx: ctx, api: api.URL, signer: signer, sink: sink}
}
