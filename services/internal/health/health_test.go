package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
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

func TestWithOptional_ReportsWithoutFailing(t *testing.T) {
	fail := func(context.Context) error { return errors.New("down") }
	ok := func(context.Context) error { return nil }
	tests := []struct {
		name     string
		required map[string]func(context.Context) error
		optional map[string]func(context.Context) error
		status   int
		word     string
	}{
		{"all fine", map[string]func(context.Context) error{"db": ok}, map[string]func(context.Context) error{"mq": ok}, 200, `"status":"ok"`},
		{"optional down", map[string]func(context.Context) error{"db": ok}, map[string]func(context.Context) error{"mq": fail}, 200, `"status":"degraded"`},
		{"required down", map[string]func(context.Context) error{"db": fail}, map[string]func(context.Context) error{"mq": ok}, 503, `"status":"unavailable"`},
		{"both down", map[string]func(context.Context) error{"db": fail}, map[string]func(context.Context) error{"mq": fail}, 503, `"status":"unavailable"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			health.WithOptional(tt.required, tt.optional).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.word) {
				t.Errorf("got %d %s", rec.Code, rec.Body)
			}
		})
	}
}
