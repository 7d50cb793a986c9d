package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"littleecom.io/littleecom/internal/cors"
	"littleecom.io/littleecom/services/internal/httpx"
)

func TestCORS(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	tests := []struct {
		name        string
		cfg         cors.Policy
		method      string
		origin      string
		preflight   bool
		wantStatus  int
		wantOrigin  string
		wantCreds   string
		wantMethods bool
	}{
		{"disabled is a no-op", cors.Policy{AllowOrigins: []string{"*"}}, "GET", "https://a.example", false, 418, "", "", false},
		{"no origin passes through", httpx.DefaultCORS(), "GET", "", false, 418, "", "", false},
		{"wildcard actual request", httpx.DefaultCORS(), "GET", "https://a.example", false, 418, "*", "", false},
		{"wildcard preflight", httpx.DefaultCORS(), "OPTIONS", "https://a.example", true, 204, "*", "", true},
		{"credentials echo the origin, never *",
			cors.Policy{Enabled: true, AllowOrigins: []string{"*"}, AllowMethods: []string{"GET"}, AllowCredentials: true},
			"GET", "https://a.example", false, 418, "https://a.example", "true", false},
		{"credentials preflight",
			cors.Policy{Enabled: true, AllowOrigins: []string{"https://a.example"}, AllowMethods: []string{"GET", "POST"}, AllowCredentials: true},
			"OPTIONS", "https://a.example", true, 204, "https://a.example", "true", true},
		{"listed origin refused for others",
			cors.Policy{Enabled: true, AllowOrigins: []string{"https://a.example"}},
			"GET", "https://evil.example", false, 418, "", "", false},
		{"refused preflight has no CORS headers",
			cors.Policy{Enabled: true, AllowOrigins: []string{"https://a.example"}, AllowMethods: []string{"GET"}},
			"OPTIONS", "https://evil.example", true, 204, "", "", false},
		{"plain OPTIONS without preflight header reaches the handler", httpx.DefaultCORS(), "OPTIONS", "https://a.example", false, 418, "*", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "/items", nil)
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.preflight {
				req.Header.Set("Access-Control-Request-Method", "POST")
			}
			rec := httptest.NewRecorder()
			httpx.CORS(tt.cfg)(ok).ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Values("Access-Control-Allow-Origin"); len(got) > 1 {
				t.Errorf("duplicate Access-Control-Allow-Origin: %q", got)
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tt.wantOrigin {
				t.Errorf("Allow-Origin = %q, want %q", got, tt.wantOrigin)
			}
			if got := rec.Header().Get("Access-Control-Allow-Credentials"); got != tt.wantCreds {
				t.Errorf("Allow-Credentials = %q, want %q", got, tt.wantCreds)
			}
			if got := rec.Header().Get("Access-Control-Allow-Methods") != ""; got != tt.wantMethods {
				t.Errorf("Allow-Methods present = %v, want %v", got, tt.wantMethods)
			}
		})
	}
}

// Two CORS layers stacked (a misconfiguration we guard against) still emit one header.
func TestCORS_NoDuplicateWhenStacked(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})
	h := httpx.CORS(httpx.DefaultCORS())(httpx.CORS(httpx.DefaultCORS())(ok))
	req := httptest.NewRequest("GET", "/items", nil)
	req.Header.Set("Origin", "https://a.example")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if got := rec.Header().Values("Access-Control-Allow-Origin"); len(got) != 1 {
		t.Errorf("Access-Control-Allow-Origin = %q, want exactly one", got)
	}
}

// Without an edge the operator hands the middleware spec.ingress.cors, whose origins may
// carry a wildcard first label (the CRD accepts it and the edge honours it): the middleware
// matches origins by the same rules (cors.Policy.Allows) as the edge.
func TestCORS_MatchesOriginsAsTheEdgeDoes(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})
	p := cors.Policy{Enabled: true, AllowOrigins: []string{"https://shop.example.com", "https://*.example.org"}}
	for origin, want := range map[string]string{
		"https://a.example.org":             "https://a.example.org",
		"https://Shop.Example.com":          "https://Shop.Example.com",
		"https://shop.example.com:8443":     "",
		"https://shop.example.com.evil.net": "",
		"https://example.org":               "",
	} {
		req := httptest.NewRequest("GET", "/items", nil)
		req.Header.Set("Origin", origin)
		rec := httptest.NewRecorder()
		httpx.CORS(p)(ok).ServeHTTP(rec, req)
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("Origin %s: Allow-Origin = %q, want %q", origin, got, want)
		}
	}
}
