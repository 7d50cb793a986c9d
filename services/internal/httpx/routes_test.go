package httpx_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"littleecom.io/littleecom/internal/cors"
	"littleecom.io/littleecom/services/internal/httpx"
)

func TestStack_RoutesAndSharedMiddleware(t *testing.T) {
	var logs bytes.Buffer
	routes := []httpx.Route{
		httpx.On("GET /ok", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { httpx.WriteText(w, http.StatusOK, "ok") })),
		httpx.On("GET /boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })),
	}
	if got := httpx.Patterns(routes); !slices.Equal(got, []string{"GET /ok", "GET /boom"}) {
		t.Fatalf("Patterns = %v", got)
	}
	noMetrics := func(h http.Handler) http.Handler { return h }
	h := httpx.Stack(routes, slog.New(slog.NewJSONHandler(&logs, nil)), cors.Policy{}, noMetrics, nil)

	for _, tt := range []struct {
		path        string
		status      int
		contentType string
	}{
		{"/ok", http.StatusOK, "text/plain"},
		{"/boom", http.StatusInternalServerError, "application/problem+json"},
		{"/nowhere", http.StatusNotFound, "application/problem+json"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
		if rec.Code != tt.status || !strings.HasPrefix(rec.Header().Get("Content-Type"), tt.contentType) {
			t.Errorf("GET %s = %d %q, want %d %s", tt.path, rec.Code, rec.Header().Get("Content-Type"), tt.status, tt.contentType)
		}
		if rec.Header().Get("X-Request-ID") == "" {
			t.Errorf("GET %s has no X-Request-ID", tt.path)
		}
	}
	// Recovery runs inside the request logger: the panic's request is logged as a 500.
	if !strings.Contains(logs.String(), `"status":500`) || !strings.Contains(logs.String(), "request_id") {
		t.Errorf("logs lack the recovered request:\n%s", logs.String())
	}
}
