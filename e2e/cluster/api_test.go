package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// shopAPI is a shopper's HTTP client of the shop, through the ingress controller.
type shopAPI struct {
	base string
	http *http.Client
}

// request is one call; header holds extra request headers (Origin, ...).
type request struct {
	method, path, token string
	body                any // nil, a string sent as is, or a value sent as JSON
	header              map[string]string
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) text() string { return strings.TrimSpace(string(r.body)) }

// try makes one request and returns the answer or the transport error.
func (a shopAPI) try(ctx context.Context, req request) (response, error) {
	var rd io.Reader
	switch b := req.body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(raw)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, a.base+req.path, rd)
	if err != nil {
		return response{}, err
	}
	if rd != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if req.token != "" {
		hr.Header.Set("Authorization", "Bearer "+req.token)
	}
	for k, v := range req.header {
		hr.Header.Set(k, v)
	}
	resp, err := a.http.Do(hr)
	if err != nil {
		return response{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("reading the answer to %s %s: %w", req.method, req.path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: raw}, nil
}

// send makes one request; a transport error fails the spec.
func (a shopAPI) send(ctx context.Context, req request) response {
	GinkgoHelper()
	r, err := a.try(ctx, req)
	Expect(err).NotTo(HaveOccurred(), "%s %s", req.method, req.path)
	return r
}

// expect sends req and fails the spec unless the answer has the status.
func (a shopAPI) expect(ctx context.Context, what string, req request, status int) response {
	GinkgoHelper()
	r := a.send(ctx, req)
	Expect(r.status).To(Equal(status), "%s: %s %s answered %d: %s", what, req.method, req.path, r.status, r.text())
	return r
}

func (a shopAPI) get(ctx context.Context, path string) response {
	GinkgoHelper()
	return a.send(ctx, request{method: http.MethodGet, path: path})
}

// item is an item as the shop answers it.
type item struct {
	ID    string  `json:"id"`
	Owner string  `json:"owner"`
	Name  string  `json:"name"`
	Price float64 `json:"price"`
}

// nextPage matches the Link header of a listing that has more pages.
var nextPage = regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)

// listItems reads every page of a listing (GET /items or /items/{owner}): the shared
// cluster keeps the items of earlier runs, which may fill the first page.
func (a shopAPI) listItems(ctx context.Context, path string) []item {
	GinkgoHelper()
	var all []item
	for pages := 0; path != ""; pages++ {
		Expect(pages).To(BeNumerically("<", 100), "listing %s: too many pages", path)
		r := a.expect(ctx, "list "+path, request{method: http.MethodGet, path: path}, http.StatusOK)
		var page []item
		decode(r, &page)
		all = append(all, page...)
		path = ""
		if m := nextPage.FindStringSubmatch(r.header.Get("Link")); m != nil {
			path = m[1]
		}
	}
	return all
}

// decode unmarshals a JSON answer into v.
func decode(r response, v any) {
	GinkgoHelper()
	Expect(json.Unmarshal(r.body, v)).To(Succeed(), "decoding %s", r.text())
}

// account is a shopper; token is set by signIn.
type account struct{ email, password, token string }

func newAccount(role string) *account {
	return &account{email: role + "-" + run + "@example.com", password: role + "-secret-" + run}
}

func (a *account) creds() map[string]string {
	return map[string]string{"email": a.email, "password": a.password}
}

// owner is how the shop names the account in items: the local part of the e-mail.
func (a *account) owner() string { return strings.SplitN(a.email, "@", 2)[0] }

// register registers acc, and deletes the account when the spec (or, from a BeforeAll, its
// container) is done.
func (a shopAPI) register(ctx context.Context, acc *account) {
	GinkgoHelper()
	r := a.patient(ctx, request{method: http.MethodPost, path: "/auth/register", body: acc.creds()})
	Expect(r.status).To(Equal(http.StatusCreated), "register %s: %s", acc.email, r.text())
	DeferCleanup(func(ctx SpecContext) {
		r := a.send(ctx, request{method: http.MethodDelete, path: "/auth/delete", body: acc.creds()})
		Expect(r.status).To(Equal(http.StatusNoContent), "deleting the account %s: %s", acc.email, r.text())
	})
}

// signIn signs acc in and keeps its token.
func (a shopAPI) signIn(ctx context.Context, acc *account) {
	GinkgoHelper()
	r := a.patient(ctx, request{method: http.MethodPost, path: "/auth/signin", body: acc.creds()})
	Expect(r.status).To(Equal(http.StatusOK), "sign in %s: %s", acc.email, r.text())
	Expect(r.header.Get("Content-Type")).To(HavePrefix("text/plain"), "the sign-in answer is the token as text")
	acc.token = r.text()
	Expect(strings.Count(acc.token, ".")).To(Equal(2), "the sign-in body is a JWT: %q", acc.token)
}

// patient sends req and, when told to wait (429), waits as long as Retry-After says and
// tries again, within two minutes. Auth limits registrations per client address a minute,
// and every request through the ingress controller comes from the same address: suite runs
// in quick succession may reach the limit.
func (a shopAPI) patient(ctx context.Context, req request) response {
	GinkgoHelper()
	var r response
	Eventually(func(g Gomega) {
		r = a.send(ctx, req)
		if r.status == http.StatusTooManyRequests {
			wait, _ := strconv.Atoi(r.header.Get("Retry-After"))
			GinkgoWriter.Printf("%s %s limited; waiting %ds\n", req.method, req.path, wait)
			sleep(ctx, time.Duration(min(max(wait, 1), 30))*time.Second)
		}
		g.Expect(r.status).NotTo(Equal(http.StatusTooManyRequests))
	}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(poll).Should(Succeed())
	return r
}
