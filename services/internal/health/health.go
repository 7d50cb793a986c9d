// Package health serves the Kubernetes probes: /healthz says the process is alive (no
// dependency checks, or a database outage would restart every pod), /readyz says its
// dependencies answer (so the Service stops sending traffic while they do not).
package health

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"
)

// CheckTimeout bounds each readiness check, below the kubelet's default probe timeout.
const CheckTimeout = 2 * time.Second

// Healthz answers 200 "ok" while the process can serve HTTP.
func Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
}

// Report is the JSON body of /readyz.
type Report struct {
	Status string            `json:"status"` // "ok", "degraded" or "unavailable"
	Checks map[string]string `json:"checks"` // name -> "ok" or the error
}

// Handler runs every check concurrently, each bounded by CheckTimeout, and answers 200 when
// all pass, 503 naming the failing dependencies otherwise.
func Handler(checks map[string]func(context.Context) error) http.Handler {
	return WithOptional(checks, nil)
}

// WithOptional is Handler with checks that are reported but do not make the service
// unready: a dependency the service works around (the backend's outbox holds events while
// RabbitMQ is down) must not take every replica out of its Service. With only an optional
// check failing it answers 200 with status "degraded".
func WithOptional(required, optional map[string]func(context.Context) error) http.Handler {
	checks := make(map[string]func(context.Context) error, len(required)+len(optional))
	maps.Copy(checks, required)
	maps.Copy(checks, optional)
	names := slices.Sorted(maps.Keys(checks))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := Report{Status: "ok", Checks: make(map[string]string, len(names))}
		var (
			mu sync.Mutex
			wg sync.WaitGroup
		)
		for _, name := range names {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(r.Context(), CheckTimeout)
				defer cancel()
				res := "ok"
				if err := checks[name](ctx); err != nil {
					res = err.Error()
				}
				mu.Lock()
				rep.Checks[name] = res
				mu.Unlock()
			})
		}
		wg.Wait()
		status := http.StatusOK
		for name, res := range rep.Checks {
			switch _, opt := optional[name]; {
			case res == "ok":
			case opt && status == http.StatusOK:
				rep.Status = "degraded"
			case !opt:
				rep.Status, status = "unavailable", http.StatusServiceUnavailable
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(rep)
	})
}
