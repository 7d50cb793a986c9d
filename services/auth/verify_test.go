package auth

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"
	amqp "github.com/rabbitmq/amqp091-go"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/testinfra"
	"littleecom.io/littleecom/services/internal/topology"
)

// verifyQueue is the verification-mail queue of a fresh vhost, as the notifier consumes it.
type verifyQueue struct {
	t  *testing.T
	ch *amqp.Channel
}

func newVerifyQueue(t *testing.T) (string, *verifyQueue) {
	t.Helper()
	vhost := testinfra.AMQPVHost(t)
	conn, err := amqpx.Dial(amqpx.Config{URL: vhost}, "auth-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := topology.Ensure(conn, topology.Options{}); err != nil {
		t.Fatal(err)
	}
	if ok, err := topology.EnsureVerifyQueue(conn); !ok || err != nil {
		t.Fatalf("verify queue: %v %v", ok, err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return vhost, &verifyQueue{t: t, ch: ch}
}

// next waits for the next verification event.
func (q *verifyQueue) next() contract.AccountEvent {
	q.t.Helper()
	var d amqp.Delivery
	gomega.NewWithT(q.t).Eventually(func(g gomega.Gomega) {
		var ok bool
		var err error
		d, ok, err = q.ch.Get(contract.QueueAccountVerify, true)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(ok).To(gomega.BeTrue(), "no verification event in %s", contract.QueueAccountVerify)
	}).WithTimeout(10 * time.Second).WithPolling(50 * time.Millisecond).Should(gomega.Succeed())
	var ev contract.AccountEvent
	if err := json.Unmarshal(d.Body, &ev); err != nil {
		q.t.Fatalf("event %s: %v", d.Body, err)
	}
	return ev
}

// none checks that no event arrives within a while.
func (q *verifyQueue) none(within time.Duration) {
	q.t.Helper()
	time.Sleep(within)
	if d, ok, err := q.ch.Get(contract.QueueAccountVerify, true); err != nil || ok {
		q.t.Fatalf("unexpected verification event %s (%v)", d.Body, err)
	}
}

func TestEmailVerification(t *testing.T) {
	vhost, q := newVerifyQueue(t)
	e := newEnv(t, func(c *Config) {
		c.EmailVerification = true
		c.PublicURL = "https://shop.example"
		c.AMQP = amqpx.Config{URL: vhost}
	})
	t.Cleanup(e.svc.Close)

	r := e.do("POST", "/auth/register", creds("Ann@Shop.example", "secret1"))
	if r.status != 201 || r.body != `{"email":"ann@shop.example","verification_required":true}`+"\n" {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	ev := q.next()
	link, err := url.Parse(ev.Link)
	if err != nil || ev.Email != "ann@shop.example" || ev.EventID == "" ||
		!strings.HasPrefix(ev.Link, "https://shop.example"+contract.PathVerifyEmail+"?token=") {
		t.Fatalf("event = %+v (%v)", ev, err)
	}

	// Not verified yet: the right password gets 403 and a new link; a wrong one 401.
	wantProblem(t, e.do("POST", "/auth/signin", creds("ann@shop.example", "wrong12")), 401)
	wantProblem(t, e.do("POST", "/auth/signin", creds("ann@shop.example", "secret1")), 403)
	if again := q.next(); again.EventID == ev.EventID || again.Link == ev.Link {
		t.Errorf("the new link is the old one: %+v", again)
	}
	// A registration of the taken address answers the same and mails nothing.
	if r := e.do("POST", "/auth/register", creds("ann@shop.example", "other12")); r.status != 201 ||
		r.body != `{"email":"ann@shop.example","verification_required":true}`+"\n" {
		t.Fatalf("taken: %d %s", r.status, r.body)
	}
	q.none(500 * time.Millisecond)

	// A bad or tampered link is refused; the real one verifies, twice is fine.
	wantProblem(t, e.do("GET", contract.PathVerifyEmail+"?token=abc", ""), 400)
	tok := link.Query().Get("token")
	wantProblem(t, e.do("GET", contract.PathVerifyEmail+"?token="+tok[:len(tok)-4]+"AAAA", ""), 400)
	// An access token is no verification link (another audience).
	other := e.svc.signer
	access, _, _ := other.Sign("ann@shop.example", "x")
	wantProblem(t, e.do("GET", contract.PathVerifyEmail+"?token="+access, ""), 400)
	for range 2 {
		if r := e.do("GET", link.RequestURI(), ""); r.status != 200 || !strings.Contains(r.body, "verified") {
			t.Fatalf("follow the link: %d %s", r.status, r.body)
		}
	}
	if r := e.do("POST", "/auth/signin", creds("ann@shop.example", "secret1")); r.status != 200 {
		t.Fatalf("sign in after verifying: %d %s", r.status, r.body)
	}
}

// At most verifyMailsPerHour links an hour: an address cannot be flooded by signing in.
func TestEmailVerification_LinksPerHourAreBounded(t *testing.T) {
	vhost, q := newVerifyQueue(t)
	e := newEnv(t, func(c *Config) {
		c.EmailVerification = true
		c.PublicURL = "https://shop.example"
		c.AMQP = amqpx.Config{URL: vhost}
	})
	t.Cleanup(e.svc.Close)
	e.pinLimitClock(limitWindow)
	e.register("ann@shop.example", "secret1")
	q.next()
	for range 5 {
		wantProblem(t, e.do("POST", "/auth/signin", creds("ann@shop.example", "secret1")), 403)
	}
	for range verifyMailsPerHour - 1 {
		q.next()
	}
	q.none(500 * time.Millisecond)
}

// Without verification there is no such route, and accounts sign in at once.
func TestEmailVerification_OffByDefault(t *testing.T) {
	e := newEnv(t)
	wantProblem(t, e.do("GET", contract.PathVerifyEmail+"?token=x", ""), 404)
	e.register("ann@shop.example", "secret1")
	if r := e.do("POST", "/auth/signin", creds("ann@shop.example", "secret1")); r.status != 200 {
		t.Fatalf("%d", r.status)
	}
}

// No one can keep an address from its owner by registering it first: an account that did not
// verify within the link's lifetime gives way to the next registration, and an unverified
// account can be deleted with its password. A younger one stays.
func TestEmailVerification_AbandonedAccountsGiveWay(t *testing.T) {
	vhost, q := newVerifyQueue(t)
	e := newEnv(t, func(c *Config) {
		c.EmailVerification = true
		c.PublicURL = "https://shop.example"
		c.AMQP = amqpx.Config{URL: vhost}
	})
	t.Cleanup(e.svc.Close)
	e.register("victim@shop.example", "squatter1")
	q.next()
	e.register("victim@shop.example", "owner123") // too soon: the squatter's account stays
	q.none(300 * time.Millisecond)
	wantProblem(t, e.do("POST", "/auth/signin", creds("victim@shop.example", "owner123")), 401)

	e.svc.now = func() time.Time { return time.Now().Add(verifyLinkTTL + time.Minute) }
	e.register("victim@shop.example", "owner123")
	ev := q.next()
	wantProblem(t, e.do("POST", "/auth/signin", creds("victim@shop.example", "squatter1")), 401)
	link, _ := url.Parse(ev.Link)
	if r := e.do("GET", link.RequestURI(), ""); r.status != 200 {
		t.Fatalf("verify: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/auth/signin", creds("victim@shop.example", "owner123")); r.status != 200 {
		t.Fatalf("the owner signs in: %d %s", r.status, r.body)
	}

	e.register("other@shop.example", "secret1")
	if r := e.do("DELETE", "/auth/delete", creds("other@shop.example", "secret1")); r.status != 204 {
		t.Errorf("deleting an unverified account: %d %s", r.status, r.body)
	}
}
