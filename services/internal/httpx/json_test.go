package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/problem"
)

func TestDecodeJSON(t *testing.T) {
	type payload struct {
		Name  string  `json:"name"`
		Price float64 `json:"price"`
	}
	tests := []struct {
		name     string
		body     string
		max      int64
		wantCode problem.Code // "" = success
	}{
		{"ok", `{"name":"x","price":1}`, 1024, ""},
		{"unknown fields accepted", `{"name":"x","price":1,"id":"abc","owner":"me"}`, 1024, ""},
		{"empty", ``, 1024, problem.Invalid},
		{"malformed", `{"name":`, 1024, problem.Invalid},
		{"syntax", `{"name" "x"}`, 1024, problem.Invalid},
		{"wrong type", `{"price":"ten"}`, 1024, problem.Invalid},
		{"not an object", `[1,2]`, 1024, problem.Invalid},
		{"trailing value", `{"name":"x"} {"name":"y"}`, 1024, problem.Invalid},
		{"too large", `{"name":"` + strings.Repeat("a", 2000) + `"}`, 1024, problem.PayloadTooLarge},
		{"exactly at limit", `{"name":"` + strings.Repeat("a", 1024-11) + `"}`, 1024, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/item", strings.NewReader(tt.body))
			rec := httptest.NewRecorder()
			var p payload
			err := httpx.DecodeJSON(rec, req, &p, tt.max)
			if got := problem.CodeOf(err); got != tt.wantCode {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.wantCode)
			}
		})
	}
}

func TestWriteTextAndJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	httpx.WriteText(rec, 201, "abc")
	if rec.Code != 201 || rec.Body.String() != "abc" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("WriteText: %d %q %q", rec.Code, rec.Body, rec.Header())
	}
	rec = httptest.NewRecorder()
	httpx.WriteJSON(rec, 200, []int{})
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "[]" || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("WriteJSON: %d %q %q", rec.Code, rec.Body, rec.Header())
	}
}
