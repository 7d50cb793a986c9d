package auth

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/services/auth/store"
)

// limitWindow is a fixed moment ten seconds into a minute (and into a quarter hour): the
// limits count per window of the wall clock, so a test that ran across a window's end would
// see its budget renewed.
var limitWindow = time.Date(2026, 11, 27, 12, 0, 10, 0, time.UTC)

// pinLimitClock makes every limit of e see the time at.
func (e *testEnv) pinLimitClock(at time.Time) {
	for _, l := range []*store.Limiter{e.svc.limits.signInAccount, e.svc.limits.signInClient,
		e.svc.limits.registerClient, e.svc.limits.registerAll, e.svc.limits.verifyMails} {
		l.Now = func() time.Time { return at }
	}
}

// withDefaultLimits configures the limits as ConfigFromEnv does by default.
func withDefaultLimits(c *Config) {
	c.SignInFailuresPerAccount = DefaultSignInFailuresPerAccount
	c.SignInFailuresPerClient = DefaultSignInFailuresPerClient
	c.RegisterPerClient = DefaultRegisterPerClient
	c.RegisterPerMinute = DefaultRegisterPerMinute
}

// The office: twenty shoppers behind one address sign in within a minute, and one of
// them a dozen times more. Successes spend nothing, so none is refused.
func TestSignin_ShoppersBehindOneAddressAreNotThrottled(t *testing.T) {
	e := newEnv(t, withDefaultLimits)
	e.pinLimitClock(limitWindow)
	const office = "198.51.100.20"
	for i := range 20 {
		email := fmt.Sprintf("shopper%d@shop.example", i)
		if r := e.do("POST", "/auth/register", creds(email, "secret1"), fromIP(office)); r.status != 201 {
			t.Fatalf("register %s: %d %s", email, r.status, r.body)
		}
	}
	var wg sync.WaitGroup
	statuses := make(chan int, 20)
	for i := range 20 {
		wg.Go(func() {
			statuses <- e.do("POST", "/auth/signin", creds(fmt.Sprintf("shopper%d@shop.example", i), "secret1"), fromIP(office)).status
		})
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != 200 {
			t.Fatalf("a shopper behind the shared address got %d", s)
		}
	}
	for i := range 15 {
		if r := e.do("POST", "/auth/signin", creds("shopper0@shop.example", "secret1"), fromIP(office)); r.status != 200 {
			t.Fatalf("sign-in %d of one shopper: %d", i+1, r.status)
		}
	}
}

// An attacker's failures from address A exhaust A's budget for the account; the owner, from
// address B, signs in (and may even mistype: B has its own budget).
func TestSignin_AttackerCannotLockTheOwnerOut(t *testing.T) {
	e := newEnv(t, withDefaultLimits)
	e.pinLimitClock(limitWindow)
	e.register("ann@shop.example", "secret1")
	const attacker, owner = "203.0.113.66", "192.0.2.10"
	for i := range DefaultSignInFailuresPerAccount {
		if r := e.do("POST", "/auth/signin", creds("ann@shop.example", "guess"+strconv.Itoa(i)), fromIP(attacker)); r.status != 401 {
			t.Fatalf("guess %d: %d", i+1, r.status)
		}
	}
	// A's budget for ann is spent: even the right password is not compared from A.
	r := e.do("POST", "/auth/signin", creds("ann@shop.example", "secret1"), fromIP(attacker))
	wantProblem(t, r, 429)
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > int(signInWindow/time.Second) {
		t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	// /auth/token and /auth/delete compare passwords too, under the same limits.
	wantProblem(t, e.do("POST", "/auth/token", creds("ann@shop.example", "secret1"), fromIP(attacker)), 429)
	wantProblem(t, e.do("DELETE", "/auth/delete", creds("ann@shop.example", "secret1"), fromIP(attacker)), 429)

	wantProblem(t, e.do("POST", "/auth/signin", creds("ann@shop.example", "typo123"), fromIP(owner)), 401)
	if r := e.do("POST", "/auth/signin", creds("ANN@shop.example", "secret1"), fromIP(owner)); r.status != 200 {
		t.Fatalf("the owner from another address: %d %s", r.status, r.body)
	}
	// The next window forgives A.
	e.pinLimitClock(limitWindow.Add(signInWindow))
	if r := e.do("POST", "/auth/signin", creds("ann@shop.example", "secret1"), fromIP(attacker)); r.status != 200 {
		t.Errorf("after the window: %d %s", r.status, r.body)
	}
}

// One client spraying guesses over many accounts is stopped by its own budget; other
// clients are not.
func TestSignin_FailuresLimitedPerClientOverAllAccounts(t *testing.T) {
	e := newEnv(t, withDefaultLimits, func(c *Config) { c.SignInFailuresPerClient = 10 })
	e.pinLimitClock(limitWindow)
	e.register("ann@shop.example", "secret1")
	for i := range 10 {
		if r := e.do("POST", "/auth/signin", creds("user"+strconv.Itoa(i)+"@shop.example", "secret1"), fromIP("198.51.100.7")); r.status != 401 {
			t.Fatalf("attempt %d: %d", i+1, r.status)
		}
	}
	wantProblem(t, e.do("POST", "/auth/signin", creds("ann@shop.example", "secret1"), fromIP("198.51.100.7")), 429)
	// An untrusted peer cannot escape its budget with X-Forwarded-For.
	wantProblem(t, e.do("POST", "/auth/signin", creds("ann@shop.example", "secret1"), fromIP("198.51.100.7"),
		func(r *http.Request) { r.Header.Set("X-Forwarded-For", "203.0.113.9") }), 429)
	if r := e.do("POST", "/auth/signin", creds("ann@shop.example", "secret1"), fromIP("198.51.100.8")); r.status != 200 {
		t.Errorf("another client: %d", r.status)
	}
}

// A thousand guesses at once get no more password comparisons than the budget: a slot is
// taken before the comparison.
func TestSignin_ConcurrentGuessesGetNoMoreThanTheBudget(t *testing.T) {
	e := newEnv(t, withDefaultLimits)
	e.pinLimitClock(limitWindow)
	e.register("ann@shop.example", "secret1")
	const n = 60
	var wg sync.WaitGroup
	var unauthorized, limited atomic.Int32
	for i := range n {
		wg.Go(func() {
			switch s := e.do("POST", "/auth/signin", creds("ann@shop.example", "guess"+strconv.Itoa(i)), fromIP("203.0.113.66")).status; s {
			case 401:
				unauthorized.Add(1)
			case 429:
				limited.Add(1)
			default:
				t.Errorf("status %d", s)
			}
		})
	}
	wg.Wait()
	if got := unauthorized.Load(); got != DefaultSignInFailuresPerAccount {
		t.Errorf("%d guesses compared, %d refused; want exactly %d compared", got, limited.Load(), DefaultSignInFailuresPerAccount)
	}
}

// An IPv6 subscriber owns a /64: its addresses share one budget.
func TestSignin_IPv6ClientsCountPer64(t *testing.T) {
	e := newEnv(t, withDefaultLimits)
	e.pinLimitClock(limitWindow)
	e.register("ann@shop.example", "secret1")
	for i := range DefaultSignInFailuresPerAccount {
		ip := fmt.Sprintf("2001:db8:1:2::%x", i+1)
		if r := e.do("POST", "/auth/signin", creds("ann@shop.example", "guess12"), fromIP(ip)); r.status != 401 {
			t.Fatalf("guess from %s: %d", ip, r.status)
		}
	}
	wantProblem(t, e.do("POST", "/auth/signin", creds("ann@shop.example", "secret1"), fromIP("2001:db8:1:2:ffff::1")), 429)
	if r := e.do("POST", "/auth/signin", creds("ann@shop.example", "secret1"), fromIP("2001:db8:1:3::1")); r.status != 200 {
		t.Errorf("the neighbouring /64: %d", r.status)
	}
}

// Two auth replicas on one database count one budget.
func TestSignin_LimitSharedByReplicas(t *testing.T) {
	e := newEnv(t, withDefaultLimits)
	other := e.replica(t)
	e.pinLimitClock(limitWindow)
	other.pinLimitClock(limitWindow)
	e.register("ann@shop.example", "secret1")
	for i := range DefaultSignInFailuresPerAccount {
		env := []*testEnv{e, other}[i%2]
		if r := env.do("POST", "/auth/signin", creds("ann@shop.example", "wrong12"), fromIP("192.0.2.50")); r.status != 401 {
			t.Fatalf("attempt %d: %d", i+1, r.status)
		}
	}
	for _, env := range []*testEnv{e, other} {
		wantProblem(t, env.do("POST", "/auth/signin", creds("ann@shop.example", "secret1"), fromIP("192.0.2.50")), 429)
	}
}

// The scripted burst of the issue: 200 registrations from one address. The first
// DefaultRegisterPerClient pass, the rest get 429 with Retry-After; other clients still
// register.
func TestRegister_BurstFromOneAddressIsThrottled(t *testing.T) {
	e := newEnv(t, withDefaultLimits)
	e.pinLimitClock(limitWindow)
	created, limited := 0, 0
	for i := range 200 {
		r := e.do("POST", "/auth/register", creds(fmt.Sprintf("bot%d@shop.example", i), "secret1"), fromIP("203.0.113.99"))
		switch r.status {
		case 201:
			created++
		case 429:
			limited++
			if r.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		default:
			t.Fatalf("registration %d: %d %s", i+1, r.status, r.body)
		}
	}
	if created != DefaultRegisterPerClient || limited != 200-DefaultRegisterPerClient {
		t.Errorf("%d created, %d refused; want %d created", created, limited, DefaultRegisterPerClient)
	}
	n, err := e.db.Collection(store.CollUsers).CountDocuments(t.Context(), bson.D{})
	if err != nil || n != int64(DefaultRegisterPerClient) {
		t.Errorf("%d accounts (%v), want %d", n, err, DefaultRegisterPerClient)
	}
	if r := e.do("POST", "/auth/register", creds("office@shop.example", "secret1"), fromIP("192.0.2.77")); r.status != 201 {
		t.Errorf("another client: %d", r.status)
	}
	e.pinLimitClock(limitWindow.Add(registerWindow))
	if r := e.do("POST", "/auth/register", creds("later@shop.example", "secret1"), fromIP("203.0.113.99")); r.status != 201 {
		t.Errorf("the next minute: %d", r.status)
	}
}

// The shop's own limit holds however many addresses the registrations come from.
func TestRegister_LimitedForTheWholeShop(t *testing.T) {
	e := newEnv(t, withDefaultLimits, func(c *Config) { c.RegisterPerMinute = 5 })
	e.pinLimitClock(limitWindow)
	for i := range 5 {
		if r := e.do("POST", "/auth/register", creds(fmt.Sprintf("u%d@shop.example", i), "secret1"), fromIP(fmt.Sprintf("192.0.2.%d", i+1))); r.status != 201 {
			t.Fatalf("registration %d: %d", i+1, r.status)
		}
	}
	wantProblem(t, e.do("POST", "/auth/register", creds("u9@shop.example", "secret1"), fromIP("192.0.2.99")), 429)
	// The refused client's own budget was given back: it registers once the shop's allows.
	e.pinLimitClock(limitWindow.Add(registerWindow))
	if r := e.do("POST", "/auth/register", creds("u9@shop.example", "secret1"), fromIP("192.0.2.99")); r.status != 201 {
		t.Errorf("the next minute: %d", r.status)
	}
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name, remote, xff string
		trusted           []netip.Prefix
		want, wantClient  string
	}{
		{"peer", "192.0.2.1:5000", "", trusted, "192.0.2.1", "192.0.2.1"},
		{"untrusted peer's XFF ignored", "192.0.2.1:5000", "203.0.113.9", trusted, "192.0.2.1", "192.0.2.1"},
		{"no trusted proxies: XFF ignored", "10.1.1.1:5000", "203.0.113.9", nil, "10.1.1.1", "10.1.1.1"},
		{"trusted proxy: client from XFF", "10.1.1.1:5000", "203.0.113.9", trusted, "203.0.113.9", "203.0.113.9"},
		{"spoofed left entries skipped", "10.1.1.1:5000", "1.2.3.4, 203.0.113.9", trusted, "203.0.113.9", "203.0.113.9"},
		{"chain of trusted proxies", "10.1.1.1:5000", "203.0.113.9, 10.2.2.2", trusted, "203.0.113.9", "203.0.113.9"},
		{"garbage XFF falls back to peer", "10.1.1.1:5000", "nonsense", trusted, "10.1.1.1", "10.1.1.1"},
		{"IPv6 peer: its /64", "[2001:db8:1:2:3:4:5:6]:5000", "", trusted, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"IPv4-mapped IPv6 is IPv4", "[::ffff:192.0.2.7]:5000", "", trusted, "192.0.2.7", "192.0.2.7"},
		{"IPv6 from XFF", "10.1.1.1:5000", "2001:db8:9::1", trusted, "2001:db8:9::1", "2001:db8:9::/64"},
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
			if got := client(r, tt.trusted); got != tt.wantClient {
				t.Errorf("client = %q, want %q", got, tt.wantClient)
			}
		})
	}
}
