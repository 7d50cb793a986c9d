package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/golang-jwt/jwt/v5"
	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/cmd/dev/devstack"
	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/resource"
)

// shop is a shopper's HTTP client of the gateway.
type shop struct {
	t    *testing.T
	base string
	http *http.Client
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) text() string { return strings.TrimSpace(string(r.body)) }

func (s shop) do(method, path, token string, body any, header ...string) response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = strings.NewReader(string(raw))
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.http.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

// expect fails unless r has one of the statuses.
func (s shop) expect(r response, what string, statuses ...int) response {
	s.t.Helper()
	if !slices.Contains(statuses, r.status) {
		s.t.Fatalf("%s: status %d, want %v; body: %s", what, r.status, statuses, r.text())
	}
	return r
}

type account struct{ email, password, token string }

func (a account) creds() map[string]string {
	return map[string]string{"email": a.email, "password": a.password}
}

func (a account) owner() string { return strings.SplitN(a.email, "@", 2)[0] }

type item struct {
	ID    string  `json:"id"`
	Owner string  `json:"owner"`
	Name  string  `json:"name"`
	Price float64 `json:"price"`
}

var objectID = regexp.MustCompile(`^[0-9a-f]{24}$`)

func TestShopper(t *testing.T) {
	dataDir := t.TempDir()
	stack, logs, err := startStackIn(t, dataDir)
	if err != nil {
		t.Fatalf("starting the stack: %v\n--- stack logs (tail) ---\n%s", err, logs.tail(60))
	}
	pids, addrs := stack.PIDs(), stack.Addrs()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = stack.Stop()
		}
		if t.Failed() {
			t.Logf("--- stack logs (tail) ---\n%s", logs.tail(80))
		}
	})
	ing := waitForIngress(t, stack)
	api := shop{t: t, base: stack.URL(), http: &http.Client{Timeout: 15 * time.Second}}
	run := "e2e" + randomHex(3)
	seller := account{email: "seller-" + run + "@example.com", password: "seller-secret"}
	buyer := account{email: "buyer-" + run + "@example.com", password: "buyer-secret"}
	var lamp item

	t.Run("the shop is Ready in the API server", func(t *testing.T) {
		var le shopv1.LittleEcom
		key := client.ObjectKey{Namespace: stack.Namespace(), Name: stack.Instance()}
		eventually(t, 20*time.Second, func() string {
			return fmt.Sprintf("phase %q, conditions %+v", le.Status.Phase, le.Status.Conditions)
		}, func() bool {
			if err := stack.Client().Get(context.Background(), key, &le); err != nil {
				t.Fatal(err)
			}
			return le.Status.Phase == shopv1.PhaseReady
		})
		// The replica set is the FerretDB stand-in, reported as what it is: one member.
		ferret := stack.Addrs()["ferretdb"]
		mdb := le.Status.MongoDB
		if !mdb.Initialized || mdb.Primary != ferret || len(mdb.Members) != 1 || mdb.Members[0].Name != ferret {
			t.Errorf("status.mongodb = %+v, want one member, the FerretDB at %s", mdb, ferret)
		}
		if c := meta.FindStatusCondition(le.Status.Conditions, shopv1.ConditionReplicaSetInitialized); c == nil ||
			!strings.Contains(c.Message, "FerretDB") {
			t.Errorf("ReplicaSetInitialized = %+v, want it to say it is the FerretDB stand-in", c)
		}
		// The gateway publishes its address on the Ingress, as an ingress controller would.
		if want := strings.TrimSuffix(stack.URL(), "/") + "/"; le.Status.Endpoints.API != want {
			t.Errorf("status.endpoints.api = %q, want %q", le.Status.Endpoints.API, want)
		}
	})

	t.Run("the backend hears its other replicas' item writes", func(t *testing.T) {
		// With the operator's RabbitMQ user and definitions, the backend declares, binds and
		// reads its own queue on ecom-item-changes; without that its item cache stays off.
		eventually(t, 60*time.Second, func() string { return "no \"item change feed listening\" in the backend's log" }, func() bool {
			return strings.Contains(logs.tail(1<<20), "item change feed listening")
		})
	})

	t.Run("probes and metrics are off the edge", func(t *testing.T) {
		checkInternalsOffTheEdge(t, shop{t: t, base: api.base, http: api.http}, stack)
	})

	t.Run("register and sign in", func(t *testing.T) {
		api := shop{t: t, base: api.base, http: api.http}
		for _, a := range []*account{&seller, &buyer} {
			api.expect(api.do(http.MethodPost, "/auth/register", "", a.creds()), "register "+a.email, http.StatusCreated)
			a.token = api.expect(api.do(http.MethodPost, "/auth/signin", "", a.creds()), "sign in "+a.email, http.StatusOK).text()
			if strings.Count(a.token, ".") != 2 {
				t.Fatalf("sign-in body is not a JWT: %q", a.token)
			}
		}
		// A taken address answers like a new one (no account enumeration) and changes nothing.
		taken := api.expect(api.do(http.MethodPost, "/auth/register", "", map[string]string{"email": seller.email, "password": "other-secret"}),
			"register a taken e-mail", http.StatusCreated)
		if want := `{"email":"` + seller.email + `"}`; taken.text() != want {
			t.Errorf("registering a taken address answers %s, want %s as for a new one", taken.text(), want)
		}
		api.expect(api.do(http.MethodPost, "/auth/signin", "", seller.creds()), "sign in after the taken address was registered", http.StatusOK)
		api.expect(api.do(http.MethodPost, "/auth/validate", "", map[string]string{"token": seller.token}), "validate", http.StatusOK)
	})

	t.Run("invalid credentials are refused", func(t *testing.T) {
		api := shop{t: t, base: api.base, http: api.http}
		api.expect(api.do(http.MethodPost, "/auth/register", "", map[string]string{"email": "not-an-email", "password": "secret1"}),
			"register an invalid e-mail", http.StatusBadRequest)
		api.expect(api.do(http.MethodPost, "/auth/register", "", map[string]string{"email": "short-" + run + "@example.com", "password": "12345"}),
			"register a 5-character password", http.StatusBadRequest)
		api.expect(api.do(http.MethodPost, "/auth/signin", "", map[string]string{"email": seller.email, "password": "wrong-password"}),
			"sign in with a wrong password", http.StatusUnauthorized)
	})

	t.Run("a look-alike address gets no account", func(t *testing.T) {
		checkLookAlikeRefused(t, shop{t: t, base: api.base, http: api.http}, seller)
	})

	t.Run("twenty shoppers behind one address sign in", func(t *testing.T) {
		checkOfficeSignsIn(t, shop{t: t, base: api.base, http: api.http}, run)
	})

	t.Run("add, read and update an item", func(t *testing.T) {
		api := shop{t: t, base: api.base, http: api.http}
		id := api.expect(api.do(http.MethodPost, "/item", seller.token, map[string]any{"name": "lamp " + run, "price": 12.5}),
			"add an item", http.StatusCreated).text()
		if !objectID.MatchString(id) {
			t.Fatalf("new item id %q is not 24 hex digits", id)
		}
		r := api.expect(api.do(http.MethodGet, "/item/"+id, "", nil), "read the item", http.StatusOK)
		// Send back exactly what was read, with one field changed, as the original clients do.
		var raw map[string]any
		if err := json.Unmarshal(r.body, &raw); err != nil {
			t.Fatal(err)
		}
		if raw["id"] != id || raw["owner"] != seller.owner() || raw["name"] != "lamp "+run || raw["price"] != 12.5 {
			t.Fatalf("item = %v", raw)
		}
		raw["price"] = 15.0
		api.expect(api.do(http.MethodPut, "/item/"+id, seller.token, raw), "update with the full item JSON", http.StatusOK)
		r = api.expect(api.do(http.MethodGet, "/item/"+id, "", nil), "read the updated item", http.StatusOK)
		if err := json.Unmarshal(r.body, &lamp); err != nil || lamp.Price != 15 || lamp.ID != id {
			t.Fatalf("after the update: %s (%v)", r.text(), err)
		}
		api.expect(api.do(http.MethodGet, "/item/not-an-id", "", nil), "read a malformed id", http.StatusBadRequest)
	})

	t.Run("prices and names are bounded", func(t *testing.T) {
		checkBoundedInput(t, shop{t: t, base: api.base, http: api.http}, seller)
	})

	t.Run("list all and by owner", func(t *testing.T) {
		api := shop{t: t, base: api.base, http: api.http}
		var all, mine []item
		decode(t, api.expect(api.do(http.MethodGet, "/items", "", nil), "list all", http.StatusOK), &all)
		decode(t, api.expect(api.do(http.MethodGet, "/items/"+seller.owner(), "", nil), "list by owner", http.StatusOK), &mine)
		if !slices.ContainsFunc(all, func(i item) bool { return i.ID == lamp.ID }) {
			t.Errorf("GET /items does not list %s", lamp.ID)
		}
		if len(mine) != 1 || mine[0].ID != lamp.ID || mine[0].Owner != seller.owner() {
			t.Errorf("GET /items/%s = %+v, want just the lamp", seller.owner(), mine)
		}
		var none []item
		r := api.expect(api.do(http.MethodGet, "/items/nobody-"+run, "", nil), "list an owner without items", http.StatusOK)
		decode(t, r, &none)
		if len(none) != 0 || r.text() != "[]" {
			t.Errorf("an owner without items: %s, want []", r.text())
		}
	})

	t.Run("tokens: missing, invalid, expired, not the owner", func(t *testing.T) {
		api := shop{t: t, base: api.base, http: api.http}
		body := map[string]any{"name": "x", "price": 1}
		api.expect(api.do(http.MethodPost, "/item", "", body), "add without a token", http.StatusUnauthorized)
		api.expect(api.do(http.MethodPost, "/item", "not.a.token", body), "add with an invalid token", http.StatusUnauthorized)
		expired := expiredToken(t, stack, api, seller.email)
		api.expect(api.do(http.MethodPost, "/item", expired, body), "add with an expired token", http.StatusUnauthorized)
		api.expect(api.do(http.MethodPut, "/item/"+lamp.ID, buyer.token, lamp), "update someone else's item", http.StatusForbidden)
		api.expect(api.do(http.MethodDelete, "/item/"+lamp.ID, buyer.token, nil), "delete someone else's item", http.StatusForbidden)
	})

	t.Run("buy from a second account", func(t *testing.T) {
		api := shop{t: t, base: api.base, http: api.http}
		api.expect(api.do(http.MethodPost, "/buy/"+lamp.ID, seller.token, nil), "buy one's own item", http.StatusBadRequest)
		api.expect(api.do(http.MethodPost, "/buy/"+lamp.ID, buyer.token, nil), "buy", http.StatusOK)
		api.expect(api.do(http.MethodPost, "/buy/"+lamp.ID, buyer.token, nil), "buy it again", http.StatusNotFound, http.StatusConflict)
	})

	t.Run("delete an item", func(t *testing.T) {
		api := shop{t: t, base: api.base, http: api.http}
		id := api.expect(api.do(http.MethodPost, "/item", seller.token, map[string]any{"name": "chair " + run, "price": 3}),
			"add a second item", http.StatusCreated).text()
		api.expect(api.do(http.MethodDelete, "/item/"+id, seller.token, nil), "delete it", http.StatusOK)
		api.expect(api.do(http.MethodGet, "/item/"+id, "", nil), "read the deleted item", http.StatusNotFound)
	})

	t.Run("delete an account", func(t *testing.T) {
		api := shop{t: t, base: api.base, http: api.http}
		gone := account{email: "leaving-" + run + "@example.com", password: "leaving-secret"}
		api.expect(api.do(http.MethodPost, "/auth/register", "", gone.creds()), "register", http.StatusCreated)
		api.expect(api.do(http.MethodDelete, "/auth/delete", "", map[string]string{"email": gone.email, "password": "wrong-password"}),
			"delete with a wrong password", http.StatusUnauthorized)
		api.expect(api.do(http.MethodDelete, "/auth/delete", "", gone.creds()), "delete the account", http.StatusNoContent)
		api.expect(api.do(http.MethodPost, "/auth/signin", "", gone.creds()), "sign in to a deleted account", http.StatusUnauthorized)
	})

	t.Run("a deleted account's address given to someone else", func(t *testing.T) {
		checkRecycledAddress(t, shop{t: t, base: api.base, http: api.http}, seller, run)
	})

	t.Run("CORS preflight answered as the Ingress says", func(t *testing.T) {
		api := shop{t: t, base: api.base, http: api.http}
		checkCORS(t, api, ing)
	})

	t.Run("e-mails for item added and item bought", func(t *testing.T) {
		api := shop{t: t, base: api.base, http: api.http}
		name := "lamp " + run
		want := []struct{ to, subject, body string }{
			{seller.email, fmt.Sprintf("Your item %q is listed for 12.50", name), fmt.Sprintf("your item %q is now listed", name)},
			{buyer.email, fmt.Sprintf("Order confirmation: %q for 15.00", name), fmt.Sprintf("You bought %q for 15.00", name)},
			{seller.email, fmt.Sprintf("Sold: your item %q for 15.00", name), "to " + buyer.email},
		}
		var mails []devstack.Mail
		var missing []string
		eventually(t, 30*time.Second, func() string {
			return fmt.Sprintf("e-mails not received within 30s: %s\nreceived: %+v", strings.Join(missing, "; "), mails)
		}, func() bool {
			mails, missing = nil, nil
			decode(t, api.expect(api.do(http.MethodGet, devstack.PathMail, "", nil), "GET /dev/mail", http.StatusOK), &mails)
			for _, w := range want {
				if !slices.ContainsFunc(mails, func(m devstack.Mail) bool {
					return slices.Equal(m.To, []string{w.to}) && m.Subject == w.subject && strings.Contains(m.Body, w.body) && m.From != ""
				}) {
					missing = append(missing, fmt.Sprintf("to %s %q", w.to, w.subject))
				}
			}
			return len(missing) == 0
		})
	})

	t.Run("a change to the shop reaches the services", func(t *testing.T) {
		api := shop{t: t, base: api.base, http: api.http}
		from := "shop-" + run + "@example.com"
		before := stack.PIDs()["notifier"]
		var le shopv1.LittleEcom
		key := client.ObjectKey{Namespace: stack.Namespace(), Name: stack.Instance()}
		if err := stack.Client().Get(context.Background(), key, &le); err != nil {
			t.Fatal(err)
		}
		patch := client.MergeFrom(le.DeepCopy())
		le.Spec.Notifier.SMTP.From = "LittleEcom Test <" + from + ">"
		if err := stack.Client().Patch(context.Background(), &le, patch); err != nil {
			t.Fatal(err)
		}
		// The operator rewrites the notifier's ConfigMap and rolls its Deployment; the dev
		// stack restarts the process with the new environment.
		eventually(t, 30*time.Second, func() string { return "the notifier was not restarted within 30s of the change" },
			func() bool { return stack.PIDs()["notifier"] != before })
		api.expect(api.do(http.MethodPost, "/item", seller.token, map[string]any{"name": "vase " + run, "price": 7}), "add", http.StatusCreated)
		waitForMail(t, api, func(m devstack.Mail) bool { return m.From == from && strings.Contains(m.Subject, "vase "+run) })
	})

	var kept item
	t.Run("add an item to outlive a restart", func(t *testing.T) {
		api := shop{t: t, base: api.base, http: api.http}
		id := api.expect(api.do(http.MethodPost, "/item", seller.token, map[string]any{"name": "desk " + run, "price": 40}),
			"add", http.StatusCreated).text()
		decode(t, api.expect(api.do(http.MethodGet, "/item/"+id, "", nil), "read", http.StatusOK), &kept)
	})

	t.Run("a burst of 200 registrations from one address is throttled", func(t *testing.T) {
		checkRegistrationBurst(t, shop{t: t, base: api.base, http: api.http}, run)
	})

	t.Run("a component that dies is named, with its last log lines", func(t *testing.T) {
		// The notifier may still be rolling out the previous subtest's change: kill the one
		// that has answered /readyz twice, half a second apart, under the same pid.
		pid, seen := 0, 0
		gomega.NewWithT(t).Eventually(func() int {
			p := stack.PIDs()["notifier"]
			resp, err := http.Get("http://" + stack.Addrs()["notifier-management"] + contract.PathReadyz)
			ok := err == nil && resp.StatusCode == http.StatusOK
			if err == nil {
				_ = resp.Body.Close()
			}
			switch {
			case !ok || p == 0:
				pid, seen = 0, 0
			case p == pid:
				seen++
			default:
				pid, seen = p, 1
			}
			return seen
		}).WithTimeout(30*time.Second).WithPolling(500*time.Millisecond).Should(gomega.BeNumerically(">=", 2),
			"the notifier did not settle")
		if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil { // its process group
			t.Fatal(err)
		}
		select {
		case err := <-stack.Failed():
			var ce *devstack.ComponentError
			if !errors.As(err, &ce) || ce.Component != "notifier" || len(ce.LastLines) == 0 {
				t.Fatalf("Failed() = %v, want the notifier named with its last log lines", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the dead notifier was not reported")
		}
	})

	t.Run("stopping leaves nothing running", func(t *testing.T) {
		for name, pid := range stack.PIDs() { // the restarted notifier too
			pids[name+" (now)"] = pid
		}
		start := time.Now()
		err := stack.Stop()
		stopped = true
		if err != nil {
			t.Errorf("Stop: %v", err)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("Stop took %s, want under 10s", took)
		}
		assertNothingLeft(t, pids, addrs)
	})

	t.Run("a restart keeps the shop's data", func(t *testing.T) {
		again, logs, err := startStackIn(t, dataDir)
		if err != nil {
			t.Fatalf("restarting on the same data: %v\n--- stack logs (tail) ---\n%s", err, logs.tail(60))
		}
		defer func() { _ = again.Stop() }()
		api := shop{t: t, base: again.URL(), http: api.http}
		api.expect(api.do(http.MethodPost, "/auth/signin", "", seller.creds()), "sign in after the restart", http.StatusOK)
		var got item
		decode(t, api.expect(api.do(http.MethodGet, "/item/"+kept.ID, "", nil), "read the desk after the restart", http.StatusOK), &got)
		if got != kept {
			t.Errorf("after the restart the desk is %+v, was %+v", got, kept)
		}
		api.expect(api.do(http.MethodGet, "/item/"+lamp.ID, "", nil), "the sold lamp after the restart", http.StatusNotFound)
	})
}

// eventually polls cond every 250 ms until it holds, and fails with what() when it does
// not hold within the given time.
func eventually(t *testing.T, within time.Duration, what func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitForMail waits up to 30 s for an e-mail that matches.
func waitForMail(t *testing.T, api shop, match func(devstack.Mail) bool) {
	t.Helper()
	var mails []devstack.Mail
	eventually(t, 30*time.Second, func() string {
		return fmt.Sprintf("the e-mail did not arrive within 30s; received: %+v", mails)
	}, func() bool {
		mails = nil
		decode(t, api.expect(api.do(http.MethodGet, devstack.PathMail, "", nil), "GET /dev/mail", http.StatusOK), &mails)
		return slices.ContainsFunc(mails, match)
	})
}

func decode(t *testing.T, r response, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.text(), err)
	}
}

// waitForIngress returns the Ingress the operator created, which the gateway routes by.
func waitForIngress(t *testing.T, stack *devstack.Stack) *networkingv1.Ingress {
	t.Helper()
	var ing networkingv1.Ingress
	key := client.ObjectKey{Namespace: stack.Namespace(), Name: resource.Names{Instance: stack.Instance()}.Ingress()}
	var err error
	eventually(t, 20*time.Second, func() string {
		return fmt.Sprintf("the operator did not create Ingress %s: %v", key, err)
	}, func() bool {
		err = stack.Client().Get(context.Background(), key, &ing)
		return err == nil
	})
	return &ing
}

// checkCORS sends a preflight and a plain request from a browser origin and compares the
// answers with the Ingress's nginx annotations.
func checkCORS(t *testing.T, api shop, ing *networkingv1.Ingress) {
	a := ing.Annotations
	if a[resource.AnnotationNginxEnableCORS] != "true" {
		t.Fatalf("the sample's Ingress does not enable CORS: %v", a)
	}
	origin := "https://shop.example.com"
	r := api.do(http.MethodOptions, "/item", "", nil, "Origin", origin,
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type")
	if r.status != http.StatusNoContent {
		t.Fatalf("preflight: %d %s, want 204", r.status, r.text())
	}
	wantOrigin := origin
	if strings.TrimSpace(a[resource.AnnotationNginxCORSAllowOrigin]) == "*" {
		wantOrigin = "*"
	}
	for header, want := range map[string]string{
		"Access-Control-Allow-Origin":  wantOrigin,
		"Access-Control-Allow-Methods": a[resource.AnnotationNginxCORSAllowMethods],
		"Access-Control-Allow-Headers": a[resource.AnnotationNginxCORSAllowHeaders],
		"Access-Control-Max-Age":       a[resource.AnnotationNginxCORSMaxAge],
	} {
		if got := r.header.Values(header); len(got) != 1 || got[0] != want {
			t.Errorf("preflight %s = %q, want exactly [%q] (from the Ingress)", header, got, want)
		}
	}
	creds := r.header.Get("Access-Control-Allow-Credentials")
	if (a[resource.AnnotationNginxCORSAllowCreds] == "true") != (creds == "true") {
		t.Errorf("Access-Control-Allow-Credentials = %q, annotation %q", creds, a[resource.AnnotationNginxCORSAllowCreds])
	}
	// A plain request gets exactly one Allow-Origin: the services' own CORS is off.
	r = api.do(http.MethodGet, "/items", "", nil, "Origin", origin)
	if got := r.header.Values("Access-Control-Allow-Origin"); r.status != http.StatusOK || len(got) != 1 || got[0] != wantOrigin {
		t.Errorf("GET /items from %s: %d, Access-Control-Allow-Origin %q, want exactly [%q]", origin, r.status, got, wantOrigin)
	}
}

// expiredToken signs a token that expired an hour ago with the shop's own signing key (read
// from the Secret the operator generated) and the kid auth publishes, so that only its
// expiry is wrong.
func expiredToken(t *testing.T, stack *devstack.Stack, api shop, email string) string {
	t.Helper()
	var secret corev1.Secret
	key := client.ObjectKey{Namespace: stack.Namespace(), Name: resource.Names{Instance: stack.Instance()}.AuthSigningKeySecret()}
	if err := stack.Client().Get(context.Background(), key, &secret); err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(secret.Data[contract.SecretKeySigningKey])
	if block == nil {
		t.Fatal("signing key Secret holds no PEM")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	priv, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		t.Fatalf("signing key is a %T", parsed)
	}
	var jwks struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	decode(t, api.expect(api.do(http.MethodGet, contract.PathJWKS, "", nil), "GET the JWKS", http.StatusOK), &jwks)
	if len(jwks.Keys) == 0 {
		t.Fatal("auth publishes no keys")
	}
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"email": email, "sub": email, "iss": contract.DefaultIssuer, "aud": []string{contract.DefaultAudience},
		"iat": now.Add(-2 * time.Hour).Unix(), "nbf": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix(),
	})
	tok.Header["kid"] = jwks.Keys[0].Kid
	signed, err := tok.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}
