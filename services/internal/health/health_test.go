package health_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
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
			health.Handler(nil, tt.checks).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
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
			health.WithOptional(nil, tt.required, tt.optional).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.word) {
				t.Errorf("got %d %s", rec.Code, rec.Body)
			}
		})
	}
}

// A driver's error names hosts and the replica set: it goes to the log, never to the body.
func TestHandler_KeepsErrorsOutOfTheBody(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	secret := "server selection error: mongodb-0.mongodb-headless.shop.svc.cluster.local:27017, rs0"
	failing := true
	h := health.Handler(log, map[string]func(context.Context) error{"mongodb": func(context.Context) error {
		if failing {
			return errors.New(secret)
		}
		return nil
	}})
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		if rec.Code != 503 || strings.Contains(rec.Body.String(), "cluster.local") ||
			!strings.Contains(rec.Body.String(), `"mongodb":"unavailable"`) {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	if n := strings.Count(logs.String(), "cluster.local"); n != 1 {
		t.Errorf("the error was logged %d times over three probes, want once:\n%s", n, logs.String())
	}
	failing = false
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 200 || !strings.Contains(logs.String(), "passes again") {
		t.Errorf("recovery: %d, logs:\n%s", rec.Code, logs.String())
	}
}

func TestManagement(t *testing.T) {
	ready := health.Handler(nil, nil)
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("m 1\n")) })
	h := health.Management(ready, metrics)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/item": 404, "/": 404} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s = %d, want %d", path, rec.Code, want)
		}
	}
}
