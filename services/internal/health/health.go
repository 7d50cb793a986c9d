// Package health serves the Kubernetes probes: /healthz says the process is alive (no
// dependency checks, or a database outage would restart every pod), /readyz says its
// dependencies answer (so the Service stops sending traffic while they do not). Both are
// served on the management port only (Management), never on the public one.
//
// A readiness answer names each dependency and says "ok" or "unavailable", nothing more: a
// driver's error holds host names, ports and the replica set's topology, which belong in the
// service's log, where the check writes them when a dependency's state changes.
package health

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"
)

// CheckTimeout bounds each readiness check, below the kubelet's default probe timeout.
const CheckTimeout = 2 * time.Second

// Values of a check in the report.
const (
	CheckOK          = "ok"
	CheckUnavailable = "unavailable"
)

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
	Checks map[string]string `json:"checks"` // name -> CheckOK or CheckUnavailable
}

// Handler runs every check concurrently, each bounded by CheckTimeout, and answers 200 when
// all pass, 503 naming the failing dependencies otherwise. Failures are logged to log.
func Handler(log *slog.Logger, checks map[string]func(context.Context) error) http.Handler {
	return WithOptional(log, checks, nil)
}

// WithOptional is Handler with checks that are reported but do not make the service
// unready: a dependency the service works around (the backend's outbox holds events while
// RabbitMQ is down) must not take every replica out of its Service. With only an optional
// check failing it answers 200 with status "degraded".
func WithOptional(log *slog.Logger, required, optional map[string]func(context.Context) error) http.Handler {
	checks := make(map[string]func(context.Context) error, len(required)+len(optional))
	maps.Copy(checks, required)
	maps.Copy(checks, optional)
	names := slices.Sorted(maps.Keys(checks))
	if log == nil {
		log = slog.Default()
	}
	seen := &lastErrors{log: log, last: map[string]string{}}
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
				err := checks[name](ctx)
				seen.note(name, err)
				res := CheckOK
				if err != nil {
					res = CheckUnavailable
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
			case res == CheckOK:
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

// lastErrors logs a check's error when it differs from the check's last result: a probe
// every few seconds must not repeat the same error line, but a new error, and the recovery,
// must show.
type lastErrors struct {
	log  *slog.Logger
	mu   sync.Mutex
	last map[string]string // check -> last error text, "" when it passed
}

func (l *lastErrors) note(name string, err error) {
	text := ""
	if err != nil {
		text = err.Error()
	}
	l.mu.Lock()
	prev, known := l.last[name]
	l.last[name] = text
	l.mu.Unlock()
	switch {
	case text == prev && known, text == "" && !known:
	case text == "":
		l.log.Info("readiness check passes again", "check", name)
	default:
		l.log.Warn("readiness check failed", "check", name, "err", err)
	}
}
