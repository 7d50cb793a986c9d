package openapi_test

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/auth"
	"littleecom.io/littleecom/services/backend"
	"littleecom.io/littleecom/services/internal/openapi"
)

// doc is the part of the document the tests read.
type doc struct {
	OpenAPI string                    `json:"openapi"`
	Paths   map[string]map[string]any `json:"paths"`
}

var methods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

func load(t *testing.T) doc {
	t.Helper()
	var d doc
	if err := yaml.Unmarshal(openapi.Document(), &d); err != nil {
		t.Fatalf("openapi.yaml does not parse: %v", err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want 3.x", d.OpenAPI)
	}
	return d
}

// documented returns "METHOD /path" for every operation, in ServeMux pattern form.
func documented(d doc) []string {
	var out []string
	for path, item := range d.Paths {
		for key := range item {
			if slices.Contains(methods, key) {
				out = append(out, strings.ToUpper(key)+" "+path)
			}
		}
	}
	slices.Sort(out)
	return out
}

// registered is the union of the services' ServeMux patterns. Probes, /metrics and
// /openapi.yaml are served by every service but documented once.
// The notifier serves only probes and metrics (no API of its own) and exports no Routes()
// []string; add it here if it ever gains an endpoint.
func registered() []string {
	var out []string
	for _, list := range [][]string{auth.Routes(), backend.Routes()} {
		for _, p := range list {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestDocument_MatchesTheRouters(t *testing.T) {
	docRoutes := documented(load(t))
	regRoutes := registered()
	for _, r := range regRoutes {
		if !slices.Contains(docRoutes, r) {
			t.Errorf("route %q is registered but not in openapi.yaml", r)
		}
	}
	for _, r := range docRoutes {
		if !slices.Contains(regRoutes, r) {
			t.Errorf("openapi.yaml documents %q, which no service registers", r)
		}
	}
}

// The auth routes must be documented on their own too, so this test names the service when
// it fails.
func TestDocument_CoversAuth(t *testing.T) {
	docRoutes := documented(load(t))
	for _, r := range auth.Routes() {
		if !slices.Contains(docRoutes, r) {
			t.Errorf("auth route %q is not in openapi.yaml", r)
		}
	}
}

// Every operation lists its responses, every error response is a problem document, and every
// $ref points at something that exists.
func TestDocument_IsConsistent(t *testing.T) {
	raw := string(openapi.Document())
	var full map[string]any
	if err := yaml.Unmarshal(openapi.Document(), &full); err != nil {
		t.Fatal(err)
	}
	for _, ref := range refs(full) {
		if !resolves(full, ref) {
			t.Errorf("$ref %q does not resolve", ref)
		}
	}
	for path, item := range load(t).Paths {
		for method, op := range item {
			if !slices.Contains(methods, method) {
				continue
			}
			if m, ok := op.(map[string]any); !ok || m["responses"] == nil {
				t.Errorf("%s %s has no responses", method, path)
			}
		}
	}
	if !strings.Contains(raw, "application/problem+json") {
		t.Error("no problem+json responses")
	}
}

func refs(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, vv := range x {
			if s, ok := vv.(string); ok && k == "$ref" {
				out = append(out, s)
			}
			out = append(out, refs(vv)...)
		}
	case []any:
		for _, vv := range x {
			out = append(out, refs(vv)...)
		}
	}
	return out
}

func resolves(root map[string]any, ref string) bool {
	if !strings.HasPrefix(ref, "#/") {
		return false
	}
	var cur any = root
	for part := range strings.SplitSeq(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

func TestHandler(t *testing.T) {
	rec := httptest.NewRecorder()
	openapi.Handler().ServeHTTP(rec, httptest.NewRequest("GET", contract.PathOpenAPI, nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != openapi.ContentType || rec.Body.Len() != len(openapi.Document()) {
		t.Errorf("%d %v", rec.Code, rec.Header())
	}
}
