package auth

import (
	"context"
	"fmt"
	"time"

	"littleecom.io/littleecom/internal/version"
	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/logging"
	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/internal/tracing"
)

// Main runs the auth service until ctx is done: config from env, MongoDB, the public and the
// management HTTP servers with a bounded graceful shutdown, tracing from the OTEL_*
// environment (its spans flushed at the end). cmd/auth calls it.
func Main(ctx context.Context) error {
	log := logging.New("auth")
	cfg, err := ConfigFromEnv()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	log.Info("starting", "version", version.Version(), "config", cfg)
	tr, err := tracing.Setup(ctx, "auth", log)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer tr.Flush(ctx, log)

	client, err := mongox.Connect(ctx, cfg.Mongo)
	if err != nil {
		return err
	}
	defer func() { _ = mongox.Disconnect(ctx, client) }()

	svc, err := New(ctx, cfg, client, log)
	if err != nil {
		return err
	}
	defer svc.Close()
	go svc.PurgeLoop(ctx, time.Hour)
	ls, err := httpx.ListenAll(httpx.NewServer(cfg.HTTPAddr, svc.Handler()),
		httpx.NewServer(cfg.ManagementAddr, svc.ManagementHandler()))
	if err != nil {
		return err
	}
	return httpx.ServeAll(ctx, log, cfg.ShutdownTimeout, ls...)
}
