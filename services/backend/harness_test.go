package backend_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/backend"
	"littleecom.io/littleecom/services/backend/relay"
	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/internal/testinfra"
	"littleecom.io/littleecom/services/internal/tokens"
)

// shop is a backend running on a real FerretDB and a fresh RabbitMQ vhost, verifying tokens
// from a real auth signer through its JWKS served over HTTP.
type shop struct {
	t       testing.TB
	URL     string
	MgmtURL string       // the management port: probes and metrics
	Handler http.Handler // the same API without the network, for benchmarks
	AMQPURL string       // the vhost, reached directly (the backend may go through a proxy)
	Signer  *tokens.Signer
	Key     ed25519.PrivateKey // the signer's, to make tokens for other audiences
	DB      *mongo.Database
	stop    context.CancelFunc
	done    chan error

	mu       sync.Mutex
	accounts map[string]string // e-mail -> account id, as auth would have made it
}

type shopOption func(*backend.Config)

func newShop(t testing.TB, opts ...shopOption) *shop {
	t.Helper()
	mongoURI := testinfra.StartFerretDB(t)
	vhost := testinfra.AMQPVHost(t)
	key := tokens.GenerateKey()
	signer := tokens.NewSigner(key, contract.DefaultIssuer, contract.DefaultAudience, 15*time.Minute)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(signer.JWKS())
	}))
	t.Cleanup(jwks.Close)

	cfg := backend.Config{
		Mongo: mongox.Config{URI: mongoURI, Database: contract.DatabaseBackend, MaxPoolSize: 32, ConnectTimeout: 5 * time.Second},
		AMQP: relay.Config{RecoverEvery: 200 * time.Millisecond, RecordAfter: 100 * time.Millisecond, Conn: amqpx.Config{URL: vhost,
			ReconnectMin: 50 * time.Millisecond, ReconnectMax: 300 * time.Millisecond, DialTimeout: time.Second}},
		JWKSURL:         jwks.URL + contract.PathJWKS,
		Issuer:          contract.DefaultIssuer,
		Audience:        contract.DefaultAudience,
		ShutdownTimeout: 5 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(&testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	app, err := backend.Start(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("start backend: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &shop{t: t, URL: "http://" + ln.Addr().String(), MgmtURL: "http://" + mln.Addr().String(), Handler: app.Handler(), AMQPURL: vhost, Signer: signer, Key: key, stop: cancel, done: make(chan error, 1)}
	go func() { s.done <- app.Serve(ctx, ln, mln) }()
	t.Cleanup(func() { _ = s.Shutdown() })

	client, err := mongo.Connect(options.Client().ApplyURI(mongoURI))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	s.DB = client.Database(contract.DatabaseBackend)
	return s
}

// Shutdown cancels the backend's context, as SIGTERM does, and returns what Serve returned.
func (s *shop) Shutdown() error {
	s.stop()
	select {
	case err, ok := <-s.done:
		if ok {
			close(s.done)
		}
		return err
	case <-time.After(15 * time.Second):
		s.t.Error("backend did not shut down within 15s")
		return nil
	}
}

// Token signs an access token for the account of email (one account per address, made at
// its first token) with the shop's auth key.
func (s *shop) Token(email string) string {
	s.t.Helper()
	return s.TokenFor(s.AccountID(email), email)
}

// AccountID is the id of email's account.
func (s *shop) AccountID(email string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accounts == nil {
		s.accounts = map[string]string{}
	}
	id, ok := s.accounts[email]
	if !ok {
		id = bson.NewObjectID().Hex()
		s.accounts[email] = id
	}
	return id
}

// TokenFor signs an access token for the account id with the address email.
func (s *shop) TokenFor(id, email string) string {
	s.t.Helper()
	tok, _, err := s.Signer.Sign(email, id)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// Tokens signs access tokens for n users <prefix>0@example.com, <prefix>1@example.com, ….
func (s *shop) Tokens(prefix string, n int) []string {
	s.t.Helper()
	toks := make([]string, n)
	for i := range toks {
		toks[i] = s.Token(fmt.Sprintf("%s%d@example.com", prefix, i))
	}
	return toks
}

// response is what a test looks at.
type response struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends a request; token "" sends none, body "" sends no body.
func (s *shop) Do(method, path, token, body string) response {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// Management GETs path from the management port.
func (s *shop) Management(path string) response {
	s.t.Helper()
	resp, err := http.Get(s.MgmtURL + path)
	if err != nil {
		s.t.Fatalf("GET %s (management): %v", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// AddItem creates an item as email and returns its id.
func (s *shop) AddItem(email, name string, price float64) string {
	s.t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "price": price})
	r := s.Do(http.MethodPost, "/item", s.Token(email), string(body))
	if r.Status != http.StatusCreated {
		s.t.Fatalf("POST /item: %d %s", r.Status, r.Body)
	}
	return r.Body
}

// testWriter sends log lines to t.Log in -v runs.
type testWriter struct{ t testing.TB }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
