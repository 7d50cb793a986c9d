package auth

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/loopback"
	"littleecom.io/littleecom/services/internal/testinfra"
	"littleecom.io/littleecom/services/internal/tokens"
)

// TestMain_ServesAndShutsDownGracefully runs the service as cmd/auth does, from env vars, on
// ports bound for it as the dev runner binds them, and stops it the way SIGTERM does: by
// cancelling the context.
func TestMain_ServesAndShutsDownGracefully(t *testing.T) {
	addr, mgmtAddr, release := handOverPorts(t)
	key, _ := tokens.MarshalPrivateKeyPEM(tokens.GenerateKey())
	t.Setenv(contract.EnvHTTPAddr, addr)
	t.Setenv(contract.EnvManagementAddr, mgmtAddr)
	t.Setenv(contract.EnvMongoURI, testinfra.StartFerretDB(t))
	t.Setenv(contract.EnvAuthSigningKey, string(key))
	t.Setenv(contract.EnvLogLevel, "error")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Main(ctx) }()

	base := "http://" + addr
	var up bool
	for range 100 {
		if resp, err := http.Get("http://" + mgmtAddr + contract.PathReadyz); err == nil {
			_ = resp.Body.Close()
			up = resp.StatusCode == 200
			if up {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !up {
		cancel()
		t.Fatalf("not ready: %v", <-done)
	}
	post := func(path, body string) (int, string) {
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }() // a read-only response body; nothing to report
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post("/auth/register", creds("ann@shop.example", "secret1")); code != 201 {
		t.Fatalf("register: %d %s", code, body)
	}
	code, tok := post("/auth/signin", creds("ann@shop.example", "secret1"))
	if code != 200 {
		t.Fatalf("signin: %d %s", code, tok)
	}
	jc, err := tokens.NewJWKSClient(t.Context(), base+contract.PathJWKS)
	if err != nil {
		t.Fatal(err)
	}
	v := tokens.NewVerifier(jc, contract.DefaultIssuer, contract.DefaultAudience)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("verify via JWKS: %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Main = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Main did not return after cancel")
	}
	release() // the test's copies of the sockets: with Main's closed, nothing listens
	if _, err := http.Get(base + contract.PathJWKS); err == nil {
		t.Error("still serving after shutdown")
	}
	if _, err := http.Get("http://" + mgmtAddr + contract.PathHealthz); err == nil {
		t.Error("the management port still serves after shutdown")
	}
}

// handOverPorts binds two loopback ports and hands them to Main in this process through
// loopback.EnvListenFDs, as the dev runner hands them to a service it starts. release
// closes the test's copies of the sockets.
func handOverPorts(t *testing.T) (addr, mgmtAddr string, release func()) {
	t.Helper()
	ls := &loopback.Listeners{}
	release = func() { _ = ls.Close() }
	t.Cleanup(release)
	addr, err := ls.Open()
	if err == nil {
		mgmtAddr, err = ls.Open()
	}
	if err != nil {
		t.Fatal(err)
	}
	env, err := ls.InThisProcess()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(loopback.EnvListenFDs, env)
	return addr, mgmtAddr, release
}

func TestMain_RefusesBadConfig(t *testing.T) {
	t.Setenv(contract.EnvAuthSigningKey, "not a pem")
	t.Setenv(contract.EnvMongoURI, testinfra.StartFerretDB(t))
	t.Setenv(contract.EnvLogLevel, "error")
	t.Setenv(contract.EnvHTTPAddr, "127.0.0.1:0")
	t.Setenv(contract.EnvManagementAddr, "127.0.0.1:0")
	if err := Main(context.Background()); err == nil || !strings.Contains(err.Error(), "signing key") {
		t.Errorf("Main = %v", err)
	}
}
