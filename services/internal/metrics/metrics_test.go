package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"littleecom.io/littleecom/services/internal/metrics"
)

func TestHTTPMiddleware_LabelsByPattern(t *testing.T) {
	m := metrics.New("test")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /item/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(404) })
	h := m.HTTPMiddleware(nil)(mux)
	for _, p := range []string{"/item/1", "/item/2", "/nowhere"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	m.EventsPublished.WithLabelValues("ecom.item.add").Inc()
	m.EmailsSent.Inc()

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`littleecom_http_requests_total{method="GET",route="GET /item/{id}",service="test",status="404"} 2`,
		`route="unmatched"`,
		`littleecom_events_published_total{event="ecom.item.add",service="test"} 1`,
		`littleecom_emails_sent_total{service="test"} 1`,
		`littleecom_http_request_duration_seconds_bucket`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(string(out), "/item/1") {
		t.Error("raw path used as label")
	}
}
