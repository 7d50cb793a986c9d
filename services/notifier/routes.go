package notifier

import (
	"context"
	"net/http"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/health"
	"littleecom.io/littleecom/services/internal/metrics"
)

// Routes serves the notifier's probes and metrics; it has no API of its own. dbPing checks
// the claims database (mongox.Ping).
func Routes(n *Notifier, m *metrics.Metrics, dbPing func(context.Context) error) http.Handler {
	return probes(m, map[string]func(context.Context) error{
		"rabbitmq": n.Ready,
		"mongodb":  dbPing,
	})
}

// probes serves /healthz, /readyz on checks and /metrics, with route metrics: all the
// notifier serves, consuming (Routes) or idle.
func probes(m *metrics.Metrics, checks map[string]func(context.Context) error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+contract.PathHealthz, health.Healthz())
	mux.Handle("GET "+contract.PathReadyz, health.Handler(checks))
	mux.Handle("GET "+contract.PathMetrics, m.Handler())
	return m.HTTPMiddleware(nil)(mux)
}
