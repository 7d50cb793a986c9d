package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/internal/testinfra"
)

// limitWindow is a fixed moment ten seconds into a minute: the limits count per minute of
// the wall clock, so a test that ran across a minute's end would see its budget renewed.
var limitWindow = time.Date(2026, 11, 27, 12, 0, 10, 0, time.UTC)

// pinLimitClock makes both sign-in limits of e see the time at.
func (e *testEnv) pinLimitClock(at time.Time) {
	e.svc.byEmail.now = func() time.Time { return at }
	e.svc.byIP.now = func() time.Time { return at }
}

func TestSignin_RateLimitedPerEmail(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SignInPerMinute = 10 })
	e.pinLimitClock(limitWindow)
	e.register("ann@shop.example", "secret1")
	for i := range 10 {
		// Each attempt from another address: only the e-mail's budget applies.
		r := e.do("POST", "/auth/signin", creds("ann@shop.example", "wrong12"), fromIP("192.0.2."+strconv.Itoa(i+1)))
		if r.status != 401 {
			t.Fatalf("attempt %d: %d", i+1, r.status)
		}
	}
	r := e.do("POST", "/auth/signin", creds("ANN@shop.example", "secret1"), fromIP("192.0.2.99"))
	wantProblem(t, r, 429)
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	// Another account is not affected.
	e.register("bob@shop.example", "secret1")
	if r := e.do("POST", "/auth/signin", creds("bob@shop.example", "secret1"), fromIP("192.0.2.100")); r.status != 200 {
		t.Errorf("bob: %d", r.status)
	}
	// The limit covers /auth/token and /auth/delete too: they check passwords as well.
	wantProblem(t, e.do("POST", "/auth/token", creds("ann@shop.example", "secret1"), fromIP("192.0.2.101")), 429)
	wantProblem(t, e.do("DELETE", "/auth/delete", creds("ann@shop.example", "secret1"), fromIP("192.0.2.102")), 429)

	// A minute later the budget is back.
	e.svc.byEmail.now = func() time.Time { return limitWindow.Add(time.Minute) }
	if r := e.do("POST", "/auth/signin", creds("ann@shop.example", "secret1"), fromIP("192.0.2.103")); r.status != 200 {
		t.Errorf("after a minute: %d %s", r.status, r.body)
	}
}

func TestSignin_RateLimitedPerIP(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SignInPerMinute = 10 })
	e.pinLimitClock(limitWindow)
	for i := range 10 {
		r := e.do("POST", "/auth/signin", creds("user"+strconv.Itoa(i)+"@shop.example", "secret1"), fromIP("198.51.100.7"))
		if r.status != 401 {
			t.Fatalf("attempt %d: %d", i+1, r.status)
		}
	}
	r := e.do("POST", "/auth/signin", creds("fresh@shop.example", "secret1"), fromIP("198.51.100.7"))
	wantProblem(t, r, 429)
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// An untrusted peer cannot escape the limit with X-Forwarded-For.
	wantProblem(t, e.do("POST", "/auth/signin", creds("fresh2@shop.example", "secret1"), fromIP("198.51.100.7"),
		func(r *http.Request) { r.Header.Set("X-Forwarded-For", "203.0.113.9") }), 429)
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name, remote, xff string
		trusted           []netip.Prefix
		want              string
	}{
		{"peer", "192.0.2.1:5000", "", trusted, "192.0.2.1"},
		{"untrusted peer's XFF ignored", "192.0.2.1:5000", "203.0.113.9", trusted, "192.0.2.1"},
		{"no trusted proxies: XFF ignored", "10.1.1.1:5000", "203.0.113.9", nil, "10.1.1.1"},
		{"trusted proxy: client from XFF", "10.1.1.1:5000", "203.0.113.9", trusted, "203.0.113.9"},
		{"spoofed left entries skipped", "10.1.1.1:5000", "1.2.3.4, 203.0.113.9", trusted, "203.0.113.9"},
		{"chain of trusted proxies", "10.1.1.1:5000", "203.0.113.9, 10.2.2.2", trusted, "203.0.113.9"},
		{"garbage XFF falls back to peer", "10.1.1.1:5000", "nonsense", trusted, "10.1.1.1"},
		{"IPv6 peer", "[2001:db8::1]:5000", "", trusted, "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/auth/signin", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := clientIP(r, tt.trusted); got != tt.want {
				t.Errorf("clientIP = %q, want %q", got, tt.want)
			}
		})
	}
}

// Two replicas share the limit: of many concurrent attempts on one key, across both, exactly
// `limit` pass; a full key costs no more inserts; the next window starts afresh.
func TestLimiter_SharedAcrossReplicas(t *testing.T) {
	client, err := mongox.Connect(t.Context(), mongox.Config{URI: testinfra.StartFerretDB(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	coll := client.Database(contract.DatabaseAuth).Collection(collSignInAttempts)
	now := time.Date(2026, 11, 27, 12, 0, 10, 0, time.UTC)
	replicas := []*limiter{newLimiter(coll, "email", 5), newLimiter(coll, "email", 5)}
	for _, l := range replicas {
		l.now = func() time.Time { return now }
	}

	var (
		wg      sync.WaitGroup
		allowed atomic.Int32
		waits   = make(chan time.Duration, 40)
	)
	for i := range 40 {
		wg.Go(func() {
			ok, wait, err := replicas[i%2].allow(t.Context(), "ann@shop.example")
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				allowed.Add(1)
			} else {
				waits <- wait
			}
		})
	}
	wg.Wait()
	close(waits)
	if n := allowed.Load(); n != 5 {
		t.Fatalf("%d attempts passed across two replicas, want the limit of 5", n)
	}
	for w := range waits {
		if w != 50*time.Second {
			t.Fatalf("Retry-After %v, want the 50 s left of the window", w)
		}
	}
	if ok, _, _ := replicas[0].allow(t.Context(), "bob@shop.example"); !ok {
		t.Fatal("another key was refused")
	}
	n, err := coll.CountDocuments(t.Context(), bson.D{})
	if err != nil || n != 6 {
		t.Fatalf("%d attempt documents (%v), want 6: refusals write nothing", n, err)
	}
	for _, l := range replicas {
		if ok, _, _ := l.allow(t.Context(), "ann@shop.example"); ok {
			t.Fatal("a full key passed")
		}
	}

	now = now.Add(time.Minute)
	if ok, _, _ := replicas[1].allow(t.Context(), "ann@shop.example"); !ok {
		t.Fatal("refused in the next window")
	}
}

// Two auth replicas on one database enforce one limit for an e-mail.
func TestSignin_LimitSharedByReplicas(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SignInPerMinute = 10 })
	other := e.replica(t)
	e.pinLimitClock(limitWindow)
	other.pinLimitClock(limitWindow)
	e.register("ann@shop.example", "secret1")
	for i := range 10 {
		env := []*testEnv{e, other}[i%2]
		if r := env.do("POST", "/auth/signin", creds("ann@shop.example", "wrong12"), fromIP("192.0.2."+strconv.Itoa(i+1))); r.status != 401 {
			t.Fatalf("attempt %d: %d", i+1, r.status)
		}
	}
	for _, env := range []*testEnv{e, other} {
		wantProblem(t, env.do("POST", "/auth/signin", creds("ann@shop.example", "secret1"), fromIP("192.0.2.50")), 429)
	}
}
