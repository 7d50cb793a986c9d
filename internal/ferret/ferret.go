// Package ferret runs an embedded FerretDB v1 with its SQLite backend: the MongoDB wire
// protocol, in pure Go, for the tests, `make dev` and the load generator (this machine has
// no mongod). FerretDB logs every connection at info level; only its errors are kept.
package ferret

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// stopTimeout bounds the wait for FerretDB to close its connections and files.
const stopTimeout = 10 * time.Second

// Server is a running embedded FerretDB.
type Server struct {
	addr   string
	cancel context.CancelFunc
	done   chan struct{}
}

func newFerretDB(addr, dir string, logs io.Writer) (*ferretdb.FerretDB, error) {
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + filepath.Clean(dir) + "/",
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		return nil, fmt.Errorf("ferretdb: %w", err)
	}
	return f, nil
}

// Start serves on addr (port 0: any free one) with its SQLite files in dir, and returns
// once it accepts connections.
func Start(addr, dir string, logs io.Writer) (*Server, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("ferretdb: %w", err)
	}
	// Probe a fixed port first: FerretDB's own listener error comes late, from a goroutine.
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ferretdb: cannot listen on %s: %w", addr, err)
	}
	_ = l.Close()
	f, err := newFerretDB(addr, dir, logs)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = f.Run(ctx)
	}()
	go maintainIDIndexes(ctx, dir, logs)
	uri := f.MongoDBURI() // waits for the listener that Run starts
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" {
		s.Stop()
		return nil, fmt.Errorf("ferretdb: unexpected URI %q", uri)
	}
	s.addr = u.Host
	return s, nil
}

// Addr is the host:port it serves on.
func (s *Server) Addr() string { return s.addr }

// URI is the mongodb:// URI with directConnection=true: FerretDB has no replica-set
// commands, so the driver must not try to discover a set.
func (s *Server) URI() string { return "mongodb://" + s.addr + "/?directConnection=true" }

// Done is closed when the server has stopped, whether by Stop or on its own.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop shuts the server down and waits (boundedly) until it has.
func (s *Server) Stop() {
	s.cancel()
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
	}
}

// Run serves on addr with its SQLite files in dir until ctx is done: for a process that is
// nothing but the database.
func Run(ctx context.Context, addr, dir string, logs io.Writer) error {
	go maintainIDIndexes(ctx, dir, logs)
	return RunWithoutIDIndexes(ctx, addr, dir, logs)
}

// RunWithoutIDIndexes is Run as FerretDB alone runs, without the _id lookup indexes: for
// measuring what they save (the load generator's -id-index=false).
func RunWithoutIDIndexes(ctx context.Context, addr, dir string, logs io.Writer) error {
	f, err := newFerretDB(addr, dir, logs)
	if err != nil {
		return err
	}
	return f.Run(ctx)
}

// idIndexInterval is how soon a new collection gets its _id lookup index (idindex.go);
// until then its lookups scan, as FerretDB's own would.
const idIndexInterval = time.Second

// maintainIDIndexes keeps the _id lookup index on every collection while the server runs,
// its failures written to logs as FerretDB's errors are.
func maintainIDIndexes(ctx context.Context, dir string, logs io.Writer) {
	log := slog.New(slog.NewTextHandler(logs, nil))
	MaintainIDIndexes(ctx, dir, idIndexInterval, func(err error) {
		log.Error("keeping the _id lookup indexes", "err", err)
	})
}
