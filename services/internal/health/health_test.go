package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"

	"littleecom.io/littleecom/services/internal/health"
)

func TestHandler(t *testing.T) {
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("connection refused") }
	slow := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tests := []struct {
		name       string
		checks     map[string]func(context.Context) error
		wantStatus int
		failing    string
	}{
		{"all ok", map[string]func(context.Context) error{"mongodb": ok, "rabbitmq": ok}, 200, ""},
		{"one down", map[string]func(context.Context) error{"mongodb": ok, "rabbitmq": down}, 503, "rabbitmq"},
		{"timeout", map[string]func(context.Context) error{"mongodb": slow}, 503, "mongodb"},
		{"no checks", nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			health.Handler(tt.checks).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d", rec.Code)
			}
			var rep health.Report
			if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			if tt.failing != "" && rep.Checks[tt.failing] == "ok" {
				t.Errorf("report = %+v", rep)
			}
		})
	}
	rec := httptest.NewRecorder()
	health.Healthz().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 {
		t.Errorf("healthz = %d", rec.Code)
	}
}
