package testinfra

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// StartFerretDB runs an embedded FerretDB v1 with the SQLite backend in t.TempDir() on a free
// loopback port and returns its URI with directConnection=true (FerretDB has no replica-set
// commands, so the driver must not try to discover a set). It stops on t.Cleanup.
func StartFerretDB(t testing.TB) string {
	t.Helper()
	// FerretDB logs every connection at info level; errors are all a test needs.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + t.TempDir() + "/",
		Logger:    logger,
	})
	if err != nil {
		t.Fatalf("start FerretDB: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Log("FerretDB did not stop within 10s")
		}
	})
	// MongoDBURI waits for the listener that Run starts.
	return f.MongoDBURI() + "?directConnection=true"
}
