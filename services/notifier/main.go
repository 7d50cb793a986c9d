package notifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/version"
	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/logging"
	"littleecom.io/littleecom/services/internal/metrics"
	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/internal/tracing"
)

// Main runs the notifier process from the environment until ctx ends (SIGTERM), then stops
// consuming, finishes in-flight messages and returns. cmd/notifier calls it; it lives here
// because cmd/ may not import services/internal.
func Main(ctx context.Context) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	log := logging.New("notifier")

	cfg, err := ConfigFromEnv()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dbCfg, err := mongox.ConfigFromEnv(contract.DatabaseNotifier)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	log.Info("starting", "version", version.Version(), "config", cfg, "mongodb", dbCfg)
	tr, err := tracing.Setup(ctx, "notifier", log)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer tr.Flush(ctx, log)
	cfg.Tracing = tr.Provider

	client, err := mongox.Connect(ctx, dbCfg)
	if err != nil {
		return err
	}
	defer func() { _ = mongox.Disconnect(ctx, client) }()

	m := metrics.New("notifier")
	if cfg.NoRelay {
		return idle(ctx, cfg, log, m, mongox.Ping(client))
	}
	n, err := New(cfg, client.Database(dbCfg.Database), m, log)
	if err != nil {
		return err
	}
	srv := httpx.NewServer(cfg.ManagementAddr, Routes(n, m, mongox.Ping(client)))

	// The HTTP server outlives the consumer, so that probes and metrics keep answering while
	// in-flight messages finish after SIGTERM; it stops once Run returned. If it fails, the
	// consumer is stopped too: a notifier without probes would be killed anyway.
	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHTTP()
	httpErr := make(chan error, 1)
	go func() {
		httpErr <- httpx.Serve(httpCtx, srv, log, cfg.ShutdownTimeout)
		stop()
	}()
	runErr := n.Run(ctx)
	stopHTTP()
	err = errors.Join(runErr, <-httpErr)
	log.Info("stopped")
	return err
}

// idle runs a notifier that has no SMTP relay: it consumes nothing, so item events wait in
// their queues (nothing is lost, nothing is dead-lettered) until a relay is configured and
// the operator rolls the Deployment. Probes answer so the shop is not reported broken.
func idle(ctx context.Context, cfg Config, log *slog.Logger, m *metrics.Metrics, dbPing func(context.Context) error) error {
	log.Warn("no SMTP relay configured (SMTP_HOST is empty): not consuming; item events wait in their queues")
	srv := httpx.NewServer(cfg.ManagementAddr, probes(m, log, map[string]func(context.Context) error{"mongodb": dbPing}))
	return httpx.Serve(ctx, srv, log, cfg.ShutdownTimeout)
}
