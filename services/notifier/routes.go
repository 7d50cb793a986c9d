package notifier

import (
	"context"
	"log/slog"
	"net/http"

	"littleecom.io/littleecom/services/internal/health"
	"littleecom.io/littleecom/services/internal/metrics"
)

// Routes serves the notifier's probes and metrics on its management port; it has no API of
// its own, so it listens on no public port. dbPing checks the claims database (mongox.Ping).
func Routes(n *Notifier, m *metrics.Metrics, dbPing func(context.Context) error) http.Handler {
	return probes(m, n.log, map[string]func(context.Context) error{
		"rabbitmq": n.Ready,
		"mongodb":  dbPing,
	})
}

// probes serves /healthz, /readyz on checks and /metrics: all the notifier serves,
// consuming (Routes) or idle.
func probes(m *metrics.Metrics, log *slog.Logger, checks map[string]func(context.Context) error) http.Handler {
	return health.Management(health.Handler(log, checks), m.Handler())
}
