package backend_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"littleecom.io/littleecom/services/backend"
)

func TestRoutes_ListsTheContract(t *testing.T) {
	want := []string{
		"POST /item", "GET /item/{id}", "PUT /item/{id}", "DELETE /item/{id}",
		"GET /items", "GET /items/{owner}", "POST /buy/{id}", "GET /orders",
		"GET /openapi.yaml",
	}
	got := backend.Routes()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Routes() = %v\nwant %v", got, want)
	}
}

func TestProbesAndMetrics_OnTheManagementPortOnly(t *testing.T) {
	s := newShop(t)
	if r := s.Management("/healthz"); r.Status != 200 {
		t.Errorf("healthz = %d", r.Status)
	}
	waitFor(t, func() bool { return strings.Contains(s.Management("/readyz").Body, `"status":"ok"`) }, "readyz")
	var rep struct {
		Status string
		Checks map[string]string
	}
	r := s.Management("/readyz")
	if err := json.Unmarshal([]byte(r.Body), &rep); err != nil || rep.Checks["mongodb"] != "ok" || rep.Checks["rabbitmq"] != "ok" {
		t.Errorf("readyz = %s (%v)", r.Body, err)
	}

	s.Do("GET", "/item/0123456789abcdef01234567", "", "")
	m := s.Management("/metrics")
	if !strings.Contains(m.Body, `littleecom_http_requests_total{method="GET",route="GET /item/{id}",service="backend",status="404"} 1`) {
		t.Errorf("metrics lack the request by route pattern:\n%s", grep(m.Body, "http_requests_total"))
	}
	if r := s.Do("GET", "/openapi.yaml", "", ""); r.Status != 200 || !strings.Contains(r.Body, "/buy/{id}:") {
		t.Errorf("openapi.yaml = %d (%d bytes)", r.Status, len(r.Body))
	}
	// The public port, which the Ingress reaches, serves no probe and no metrics.
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if r := s.Do("GET", path, "", ""); r.Status != http.StatusNotFound {
			t.Errorf("public GET %s = %d, want 404", path, r.Status)
		}
	}
	if r := s.Do("GET", "/nothing-here", "", ""); r.Status != http.StatusNotFound {
		t.Errorf("unknown path = %d", r.Status)
	} else {
		assertProblem(t, r)
	}
	if r := s.Do("PATCH", "/item/0123456789abcdef01234567", "", ""); r.Status != http.StatusMethodNotAllowed {
		t.Errorf("PATCH /item/{id} = %d, want 405", r.Status)
	} else {
		assertProblem(t, r)
	}
}

func grep(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
