package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/problem"
)

func TestProblemNotFound(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/signin", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.NotFoundf("handler says so"))
	})
	h := httpx.ProblemNotFound(mux)
	tests := []struct {
		method, path string
		status       int
		detail       string
		allow        string
	}{
		{"GET", "/nowhere", 404, "no route for GET /nowhere", ""},
		{"GET", "/auth/signin", 405, "not allowed", "POST"},
		{"POST", "/auth/signin", 404, "handler says so", ""},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.status || rec.Header().Get("Content-Type") != problem.ContentType ||
			!strings.Contains(rec.Body.String(), tt.detail) || !strings.Contains(rec.Header().Get("Allow"), tt.allow) {
			t.Errorf("%s %s: %d %q %q %q", tt.method, tt.path, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Allow"), rec.Body)
		}
		if strings.Contains(rec.Body.String(), "404 page not found") {
			t.Errorf("mux body leaked: %q", rec.Body)
		}
	}
}
