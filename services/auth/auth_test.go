package auth

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/crypto/bcrypt"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/internal/problem"
	"littleecom.io/littleecom/services/internal/testinfra"
)

type testEnv struct {
	t    *testing.T
	cfg  Config
	svc  *Service
	db   *mongo.Database // auth's database, for what a test checks behind the API
	h    http.Handler    // the public port
	mgmt http.Handler    // the management port
	logs *testinfra.SyncBuffer
}

// newEnv starts auth on a fresh embedded FerretDB through the real router.
func newEnv(t *testing.T, mutate ...func(*Config)) *testEnv {
	t.Helper()
	uri := testinfra.StartFerretDB(t)
	cfg := Config{
		Mongo:           mongox.Config{URI: uri, Database: contract.DatabaseAuth, ConnectTimeout: 5 * time.Second},
		Issuer:          contract.DefaultIssuer,
		Audience:        contract.DefaultAudience,
		AccessTokenTTL:  15 * time.Minute,
		RefreshTokenTTL: 720 * time.Hour,
		// Generous limits: the tests of the limits set their own.
		SignInFailuresPerAccount: 1000,
		SignInFailuresPerClient:  1000,
		RegisterPerClient:        1000,
		RegisterPerMinute:        1000,
		BcryptCost:               bcrypt.MinCost, // the default cost would make the suite take minutes
	}
	for _, m := range mutate {
		m(&cfg)
	}
	return startEnv(t, cfg)
}

// replica starts a second auth service on the same database and configuration, as a
// second replica of the Deployment.
func (e *testEnv) replica(t *testing.T) *testEnv {
	t.Helper()
	return startEnv(t, e.cfg)
}

func startEnv(t *testing.T, cfg Config) *testEnv {
	t.Helper()
	ctx := context.Background()
	client, err := mongox.Connect(ctx, cfg.Mongo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	logs := &testinfra.SyncBuffer{}
	svc, err := New(ctx, cfg, client, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{t: t, cfg: cfg, svc: svc, db: client.Database(cfg.Mongo.Database), h: svc.Handler(), mgmt: svc.ManagementHandler(), logs: logs}
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
}

// do sends a request through the service's full handler from the given client address.
func (e *testEnv) do(method, path, body string, opts ...func(*http.Request)) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	for _, o := range opts {
		o(req)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return resp{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

func fromIP(ip string) func(*http.Request) {
	return func(r *http.Request) { r.RemoteAddr = net.JoinHostPort(ip, "40000") }
}

func creds(email, password string) string {
	b, _ := json.Marshal(credentials{Email: email, Password: password})
	return string(b)
}

func (e *testEnv) register(email, password string) {
	e.t.Helper()
	if r := e.do("POST", "/auth/register", creds(email, password)); r.status != http.StatusCreated {
		e.t.Fatalf("register %s: %d %s", email, r.status, r.body)
	}
}

// pair gets a token pair for ann@shop.example, the account the tests register.
func (e *testEnv) pair(password string) tokenPair {
	e.t.Helper()
	r := e.do("POST", "/auth/token", creds("ann@shop.example", password))
	if r.status != http.StatusOK {
		e.t.Fatalf("token: %d %s", r.status, r.body)
	}
	var p tokenPair
	r.json(e.t, &p)
	return p
}

// wantProblem checks status and that the body is a problem document.
func wantProblem(t *testing.T, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != problem.ContentType {
		t.Errorf("Content-Type = %q, want %q", ct, problem.ContentType)
	}
	var p problem.Body
	r.json(t, &p)
	if p.Status != status || p.RequestID == "" {
		t.Errorf("problem body = %+v", p)
	}
}
