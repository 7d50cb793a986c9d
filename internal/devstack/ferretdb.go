package devstack

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// ferret is the embedded FerretDB v1 that stands in for the MongoDB replica set, with its
// SQLite files under the data directory so that the shop's data survives a restart.
type ferret struct {
	addr   string
	cancel context.CancelFunc
	done   chan struct{}
}

func startFerretDB(dir, addr string, logs *prefixWriter) (*ferret, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ferretdb: %w", err)
	}
	// Probe the port first: FerretDB's own listener error comes late and from a goroutine.
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ferretdb: port %s is in use: %w", addr, err)
	}
	_ = l.Close()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + filepath.Clean(dir) + "/",
		// FerretDB logs every connection at info level; errors are what a person needs.
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		return nil, fmt.Errorf("ferretdb: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	fd := &ferret{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(fd.done)
		_ = f.Run(ctx)
	}()
	uri := f.MongoDBURI() // waits for the listener
	fd.addr = hostPortOf(uri)
	if fd.addr == "" {
		fd.stop()
		return nil, fmt.Errorf("ferretdb: unexpected URI %q", uri)
	}
	return fd, nil
}

// uri is the base mongodb:// URI, without options.
func (f *ferret) uri() string { return "mongodb://" + f.addr + "/" }

func (f *ferret) stop() {
	f.cancel()
	select {
	case <-f.done:
	case <-time.After(5 * time.Second):
	}
}

// hostPortOf extracts host:port from mongodb://host:port/...
func hostPortOf(uri string) string {
	const scheme = "mongodb://"
	if len(uri) <= len(scheme) {
		return ""
	}
	rest := uri[len(scheme):]
	for i, c := range rest {
		if c == '/' || c == '?' {
			return rest[:i]
		}
	}
	return rest
}
