package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"littleecom.io/littleecom/cmd/dev/devstack"
	"littleecom.io/littleecom/internal/contract"
)

// The attacker's side of issue 12, through the gateway as a shopper (or an attacker) sees the
// shop. Every request of this suite comes from 127.0.0.1: make dev's sample shop trusts no
// proxy, so auth counts the whole suite as one client. The per-client tests that need two
// addresses are auth's service tests (services/auth/ratelimit_test.go).

// checkInternalsOffTheEdge: the gateway routes / to the backend as the Ingress does, so the
// probes and metrics must not be served on the public port; they answer on each service's
// management port, with no driver error in them.
func checkInternalsOffTheEdge(t *testing.T, api shop, stack *devstack.Stack) {
	for _, path := range []string{contract.PathReadyz, contract.PathMetrics, contract.PathHealthz, "/auth" + contract.PathReadyz} {
		api.expect(api.do(http.MethodGet, path, "", nil), "GET "+path+" through the edge", http.StatusNotFound)
	}
	for _, svc := range []string{"auth", "backend", "notifier"} {
		addr := stack.Addrs()[svc+"-management"]
		if addr == "" {
			t.Fatalf("no management address for %s in %v", svc, stack.Addrs())
		}
		mgmt := shop{t: t, base: "http://" + addr, http: api.http}
		r := mgmt.expect(mgmt.do(http.MethodGet, contract.PathReadyz, "", nil), svc+" readiness on its management port", http.StatusOK)
		var rep struct {
			Checks map[string]string `json:"checks"`
		}
		decode(t, r, &rep)
		for name, v := range rep.Checks {
			if v != "ok" && v != "unavailable" {
				t.Errorf("%s readiness check %s says %q: only ok or unavailable may show", svc, name, v)
			}
		}
		if r := mgmt.do(http.MethodGet, contract.PathMetrics, "", nil); r.status != http.StatusOK || !strings.Contains(r.text(), "littleecom_") {
			t.Errorf("%s metrics on its management port: %d", svc, r.status)
		}
	}
}

// checkLookAlikeRefused: an address that imitates another with a non-ASCII letter gets no
// account, so it can neither collide with nor own the original's items.
func checkLookAlikeRefused(t *testing.T, api shop, seller account) {
	lookalike := "ſ" + strings.TrimPrefix(seller.email, "s") // U+017F for the leading "s"
	r := api.expect(api.do(http.MethodPost, "/auth/register", "", map[string]string{"email": lookalike, "password": "attacker1"}),
		"register a look-alike of the seller's address", http.StatusBadRequest)
	if !strings.Contains(r.text(), "ASCII") {
		t.Errorf("the refusal does not say why: %s", r.text())
	}
	api.expect(api.do(http.MethodPost, "/auth/signin", "", map[string]string{"email": lookalike, "password": "attacker1"}),
		"sign in as the look-alike", http.StatusUnauthorized)
}

// checkBoundedInput: prices and names outside the documented bounds get a 400 that says why.
func checkBoundedInput(t *testing.T, api shop, seller account) {
	for _, tc := range []struct {
		body, says string
	}{
		{`{"name":"lamp","price":1e308}`, "price must be from 0.01 to 1000000.00"},
		{`{"name":"lamp","price":5e-324}`, "price must be from 0.01"},
		{`{"name":"lamp","price":9.999}`, "at most 2 decimals"},
		{`{"name":"lamp \u202egnp.exe","price":1}`, "U+202E"},
		{`{"name":"la\u200bmp","price":1}`, "invisible"},
	} {
		r := api.expect(api.do(http.MethodPost, "/item", seller.token, tc.body), "add "+tc.body, http.StatusBadRequest)
		if !strings.Contains(r.text(), tc.says) {
			t.Errorf("POST /item %s: %s, want it to say %q", tc.body, r.text(), tc.says)
		}
	}
}

// checkOfficeSignsIn: twenty shoppers behind one address sign in within a minute; successes
// spend no budget, so none gets 429.
func checkOfficeSignsIn(t *testing.T, api shop, run string) {
	shoppers := make([]account, 20)
	for i := range shoppers {
		shoppers[i] = account{email: fmt.Sprintf("office%d-%s@example.com", i, run), password: "office-secret"}
		api.expect(api.do(http.MethodPost, "/auth/register", "", shoppers[i].creds()), "register "+shoppers[i].email, http.StatusCreated)
	}
	start := time.Now()
	var wg sync.WaitGroup
	statuses := make([]int, len(shoppers))
	for i, a := range shoppers {
		wg.Go(func() {
			statuses[i] = api.do(http.MethodPost, "/auth/signin", "", a.creds()).status
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("shopper %d behind the shared address: %d, want 200", i, s)
		}
	}
	if took := time.Since(start); took > time.Minute {
		t.Errorf("the sign-ins took %s, not within a minute", took)
	}
}

// checkRecycledAddress: deleting an account takes its unsold listings off sale and keeps its
// orders from whoever registers the address next.
func checkRecycledAddress(t *testing.T, api shop, seller account, run string) {
	leaving := account{email: "recycled-" + run + "@example.com", password: "first-owner"}
	api.expect(api.do(http.MethodPost, "/auth/register", "", leaving.creds()), "register", http.StatusCreated)
	leaving.token = api.expect(api.do(http.MethodPost, "/auth/signin", "", leaving.creds()), "sign in", http.StatusOK).text()
	listing := api.expect(api.do(http.MethodPost, "/item", leaving.token, map[string]any{"name": "heirloom " + run, "price": 99}),
		"list an item", http.StatusCreated).text()
	bought := api.expect(api.do(http.MethodPost, "/item", seller.token, map[string]any{"name": "gift " + run, "price": 5}),
		"the seller lists", http.StatusCreated).text()
	api.expect(api.do(http.MethodPost, "/buy/"+bought, leaving.token, nil), "buy", http.StatusOK)
	api.expect(api.do(http.MethodDelete, "/auth/delete", "", leaving.creds()), "delete the account", http.StatusNoContent)

	eventually(t, 15*time.Second, func() string { return "the deleted account's listing is still for sale after 15s" }, func() bool {
		return api.do(http.MethodGet, "/item/"+listing, "", nil).status == http.StatusNotFound
	})
	api.expect(api.do(http.MethodPost, "/item", leaving.token, map[string]any{"name": "ghost", "price": 1}),
		"list with the deleted account's token", http.StatusUnauthorized)

	next := account{email: leaving.email, password: "second-owner"}
	api.expect(api.do(http.MethodPost, "/auth/register", "", next.creds()), "register the address again", http.StatusCreated)
	next.token = api.expect(api.do(http.MethodPost, "/auth/signin", "", next.creds()), "sign in as the new holder", http.StatusOK).text()
	var orders []json.RawMessage
	decode(t, api.expect(api.do(http.MethodGet, "/orders", next.token, nil), "the new holder's orders", http.StatusOK), &orders)
	if len(orders) != 0 {
		t.Errorf("the new holder of the address sees the old account's orders: %s", orders)
	}
	api.expect(api.do(http.MethodPut, "/item/"+listing, next.token, map[string]any{"name": "mine", "price": 1}),
		"the new holder updates the old listing", http.StatusNotFound)
}

// checkRegistrationBurst: the scripted burst of 200 registrations from one address is cut
// off after the allowed burst (40 a minute by default, some of which the suite spent).
func checkRegistrationBurst(t *testing.T, api shop, run string) {
	// The limit counts per minute of the clock: start with time to spare in this one, so
	// that the burst does not straddle two minutes' budgets.
	if left := time.Minute - time.Duration(time.Now().Second())*time.Second; left < 25*time.Second {
		time.Sleep(left)
	}
	created, refused := 0, 0
	for i := range 200 {
		r := api.do(http.MethodPost, "/auth/register", "", map[string]string{
			"email": fmt.Sprintf("bot%d-%s@example.com", i, run), "password": "bot-secret"})
		switch r.status {
		case http.StatusCreated:
			if refused > 0 {
				t.Fatalf("registration %d passed after %d were refused", i+1, refused)
			}
			created++
		case http.StatusTooManyRequests:
			if r.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			refused++
		default:
			t.Fatalf("registration %d: %d %s", i+1, r.status, r.text())
		}
	}
	t.Logf("burst of 200 registrations from one address: %d created, %d refused", created, refused)
	if created > 40 {
		t.Errorf("%d of 200 registrations from one address passed, want at most the burst of 40 a minute", created)
	}
}
