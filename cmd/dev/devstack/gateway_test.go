package devstack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"slices"
	"strings"
	"sync"
	"testing"

	"littleecom.io/littleecom/internal/resource"

	"littleecom.io/littleecom/internal/mailsink"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// shopIngress is the Ingress the operator renders for a shop: /auth to auth, / to backend,
// with the nginx CORS annotations.
func shopIngress(version string, annotations map[string]string) *networkingv1.Ingress {
	prefix := networkingv1.PathTypePrefix
	path := func(p, svc string) networkingv1.HTTPIngressPath {
		return networkingv1.HTTPIngressPath{Path: p, PathType: &prefix, Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Name: "http"}}}}
	}
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "ns", ResourceVersion: version, Annotations: annotations},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
			Host: "shop.example.com",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{path("/", "shop-backend"), path("/auth", "shop-auth")}}},
		}}},
	}
}

var openCORS = map[string]string{
	resource.AnnotationNginxEnableCORS:       "true",
	resource.AnnotationNginxCORSAllowOrigin:  "*",
	resource.AnnotationNginxCORSAllowMethods: "GET, PUT, POST, DELETE, PATCH, OPTIONS",
	resource.AnnotationNginxCORSAllowHeaders: "Content-Type, Authorization",
	resource.AnnotationNginxCORSAllowCreds:   "false",
	resource.AnnotationNginxCORSMaxAge:       "600",
}

// upstream answers with its name and, like a service with its own CORS on, its own
// Access-Control-Allow-Origin, which the gateway must replace.
func upstream(t *testing.T, name string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "https://upstream.invalid")
		_, _ = io.WriteString(w, name+" "+r.Method+" "+r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return srv
}

type fakeIngress struct {
	mu  sync.Mutex
	ing *networkingv1.Ingress
}

func (f *fakeIngress) get(context.Context) (*networkingv1.Ingress, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ing == nil {
		return nil, apierrors.NewNotFound(schema.GroupResource{Group: "networking.k8s.io", Resource: "ingresses"}, "shop")
	}
	return f.ing.DeepCopy(), nil
}

func (f *fakeIngress) set(ing *networkingv1.Ingress) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ing = ing
}

func newTestGateway(t *testing.T, ing *fakeIngress) *httptest.Server {
	t.Helper()
	auth, backend := upstream(t, "auth"), upstream(t, "backend")
	addrs := map[string]string{"shop-auth": auth.Listener.Addr().String(), "shop-backend": backend.Listener.Addr().String()}
	sink, err := mailsink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	msg := "From: a@x\r\nTo: b@x\r\nSubject: s\r\n\r\nb\r\n"
	if err := smtp.SendMail(sink.Addr(), nil, "a@x", []string{"b@x"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	g := &gateway{
		ingress:  ing.get,
		upstream: func(s string) (string, bool) { a, ok := addrs[s]; return a, ok },
		mail:     sink.Handler(),
		log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestGateway_RoutesByIngressPaths(t *testing.T) {
	srv := newTestGateway(t, &fakeIngress{ing: shopIngress("1", openCORS)})
	for path, want := range map[string]string{
		"/auth/register": "auth POST /auth/register",
		"/auth":          "auth POST /auth",
		"/authx":         "backend POST /authx", // Prefix matches path elements, not characters
		"/item":          "backend POST /item",
		"/":              "backend POST /",
	} {
		resp, body := do(t, http.MethodPost, srv.URL+path, nil)
		if resp.StatusCode != http.StatusOK || body != want {
			t.Errorf("POST %s: %d %q, want %q", path, resp.StatusCode, body, want)
		}
	}
}

func TestGateway_AnswersPreflightAsAnnotated(t *testing.T) {
	srv := newTestGateway(t, &fakeIngress{ing: shopIngress("1", openCORS)})
	resp, body := do(t, http.MethodOptions, srv.URL+"/item", map[string]string{
		"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"})
	if resp.StatusCode != http.StatusNoContent || body != "" {
		t.Fatalf("preflight: %d %q, want 204 and no body (it must not reach the service)", resp.StatusCode, body)
	}
	want := map[string]string{
		"Access-Control-Allow-Origin":  "*",
		"Access-Control-Allow-Methods": "GET, PUT, POST, DELETE, PATCH, OPTIONS",
		"Access-Control-Allow-Headers": "Content-Type, Authorization",
		"Access-Control-Max-Age":       "600",
	}
	for k, v := range want {
		if got := resp.Header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want exactly [%q]", k, got, v)
		}
	}
	if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != "" {
		t.Errorf("Access-Control-Allow-Credentials = %q with cors-allow-credentials false", got)
	}
}

func TestGateway_ReplacesUpstreamCORSWithExactlyOneOrigin(t *testing.T) {
	srv := newTestGateway(t, &fakeIngress{ing: shopIngress("1", openCORS)})
	resp, _ := do(t, http.MethodGet, srv.URL+"/items", map[string]string{"Origin": "https://app.example.com"})
	if got := resp.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "*" {
		t.Fatalf("Access-Control-Allow-Origin = %q, want exactly [*]", got)
	}
}

func TestGateway_OriginListAndCredentials(t *testing.T) {
	ann := map[string]string{
		resource.AnnotationNginxEnableCORS:      "true",
		resource.AnnotationNginxCORSAllowOrigin: "https://shop.example.com, https://*.example.org",
		resource.AnnotationNginxCORSAllowCreds:  "true",
	}
	srv := newTestGateway(t, &fakeIngress{ing: shopIngress("1", ann)})
	for _, origin := range []string{"https://shop.example.com", "https://a.example.org"} {
		resp, _ := do(t, http.MethodOptions, srv.URL+"/item", map[string]string{"Origin": origin})
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != origin ||
			resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("preflight from %s: %d %v", origin, resp.StatusCode, resp.Header)
		}
		if got := resp.Header.Get("Access-Control-Allow-Methods"); got != nginxDefaultMethods {
			t.Errorf("default methods = %q, want ingress-nginx's %q", got, nginxDefaultMethods)
		}
	}
	// Like ingress-nginx, an origin off the list gets no CORS headers and its OPTIONS
	// goes to the service.
	resp, body := do(t, http.MethodOptions, srv.URL+"/item", map[string]string{"Origin": "https://evil.example.net"})
	if body != "backend OPTIONS /item" {
		t.Errorf("OPTIONS from a foreign origin: %d %q, want it proxied", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://upstream.invalid" {
		t.Errorf("foreign origin: Access-Control-Allow-Origin = %q, want the service's own answer untouched", got)
	}
}

func TestGateway_CORSDisabled(t *testing.T) {
	srv := newTestGateway(t, &fakeIngress{ing: shopIngress("1", nil)})
	resp, body := do(t, http.MethodOptions, srv.URL+"/item", map[string]string{"Origin": "https://app.example.com"})
	if body != "backend OPTIONS /item" {
		t.Errorf("without enable-cors a preflight goes to the service: %d %q", resp.StatusCode, body)
	}
}

func TestGateway_FollowsIngressChanges(t *testing.T) {
	ing := &fakeIngress{}
	srv := newTestGateway(t, ing)
	resp, body := do(t, http.MethodGet, srv.URL+"/items", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Ingress") {
		t.Fatalf("without an Ingress: %d %q, want 503 naming the Ingress", resp.StatusCode, body)
	}
	ing.set(shopIngress("1", openCORS))
	if _, body := do(t, http.MethodGet, srv.URL+"/auth/x", nil); body != "auth GET /auth/x" {
		t.Fatalf("after the Ingress appeared: %q", body)
	}
	changed := shopIngress("2", openCORS)
	changed.Spec.Rules[0].HTTP.Paths = changed.Spec.Rules[0].HTTP.Paths[:1] // drop /auth
	ing.set(changed)
	if _, body := do(t, http.MethodGet, srv.URL+"/auth/x", nil); body != "backend GET /auth/x" {
		t.Fatalf("after /auth was removed from the Ingress: %q", body)
	}
}

func TestGateway_ServesMail(t *testing.T) {
	srv := newTestGateway(t, &fakeIngress{})
	resp, body := do(t, http.MethodGet, srv.URL+PathMail, nil)
	var got []Mail
	if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s (%v)", PathMail, resp.StatusCode, body, err)
	}
	if len(got) != 1 || got[0].From != "a@x" || !slices.Equal(got[0].To, []string{"b@x"}) || got[0].Subject != "s" || got[0].Body != "b\n" {
		t.Fatalf("GET %s = %+v", PathMail, got)
	}
}

func TestCompileIngress_ExactBeforePrefixLongestFirst(t *testing.T) {
	ing := shopIngress("1", nil)
	exact := networkingv1.PathTypeExact
	ing.Spec.Rules[0].HTTP.Paths = append(ing.Spec.Rules[0].HTTP.Paths, networkingv1.HTTPIngressPath{
		Path: "/auth/signin", PathType: &exact, Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: "special"}}})
	table := compileIngress(ing)
	for path, want := range map[string]string{"/auth/signin": "special", "/auth/signin/x": "shop-auth", "/x": "shop-backend"} {
		if got := table.serviceFor(path); got != want {
			t.Errorf("%s -> %s, want %s", path, got, want)
		}
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
