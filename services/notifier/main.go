package notifier

import (
	"context"
	"errors"
	"fmt"
	"time"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/config"
	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/logging"
	"littleecom.io/littleecom/services/internal/metrics"
	"littleecom.io/littleecom/services/internal/mongox"
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
	log.Info("starting", "config", cfg, "mongodb", dbCfg)

	client, err := mongox.Connect(ctx, dbCfg)
	if err != nil {
		return err
	}
	defer func() { _ = client.Disconnect(context.WithoutCancel(ctx)) }()

	m := metrics.New("notifier")
	n, err := New(cfg, client.Database(dbCfg.Database), m, log)
	if err != nil {
		return err
	}
	srv := httpx.NewServer(config.String(contract.EnvHTTPAddr, ":8080"), Routes(n, m, mongox.Ping(client)))

	// The HTTP server outlives the consumer by a little, so that probes keep answering
	// while in-flight messages finish; both stop on SIGTERM.
	errc := make(chan error, 2)
	go func() { errc <- n.Run(ctx) }()
	go func() { errc <- httpx.Serve(ctx, srv, log, 10*time.Second) }()
	var errs []error
	for range 2 {
		if err := <-errc; err != nil {
			errs = append(errs, err)
			stop() // one part failed: stop the other too
		}
	}
	log.Info("stopped")
	return errors.Join(errs...)
}
