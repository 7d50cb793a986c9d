package auth

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"littleecom.io/littleecom/services/internal/mongox"
)

// A restarted auth (a rollout, make dev run again) opens a database whose indexes exist.
// FerretDB v1 used to drop the connection on that; the service must start all the same.
func TestNew_StartsAgainOnItsOwnDatabase(t *testing.T) {
	var cfg Config
	newEnv(t, func(c *Config) { cfg = *c }) // the first start, on a fresh database
	client, err := mongox.Connect(context.Background(), cfg.Mongo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	for range 2 {
		if _, err := New(context.Background(), cfg, client, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
			t.Fatalf("second start on the same database: %v", err)
		}
	}
}
