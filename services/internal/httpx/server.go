package httpx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"littleecom.io/littleecom/internal/loopback"
)

// NewServer returns an http.Server with timeouts on every phase, so a slow or stuck client
// cannot hold a connection (and a goroutine) forever.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// Serve runs srv, on its Addr or the socket the parent bound for it (see ListenAll), until
// ctx is done, then shuts it down, waiting at most shutdownTimeout for in-flight requests.
// It returns nil after a clean shutdown.
func Serve(ctx context.Context, srv *http.Server, log *slog.Logger, shutdownTimeout time.Duration) error {
	ln, err := loopback.Listen(srv.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", srv.Addr, err)
	}
	return ServeListener(ctx, srv, ln, log, shutdownTimeout)
}

// Listener is a server with the listener it serves on.
type Listener struct {
	Server *http.Server
	Ln     net.Listener
}

// ListenAll opens every server's Addr, or takes the socket the parent process bound for it
// (loopback.Listen: the dev runner and the load generator hand their children bound
// ports). On a failure it closes what it opened, so that a service with a taken port fails
// at start, naming the address, before it serves anything.
func ListenAll(srvs ...*http.Server) ([]Listener, error) {
	out := make([]Listener, 0, len(srvs))
	for _, srv := range srvs {
		ln, err := loopback.Listen(srv.Addr)
		if err != nil {
			for _, l := range out {
				_ = l.Ln.Close()
			}
			return nil, fmt.Errorf("listen on %s: %w", srv.Addr, err)
		}
		out = append(out, Listener{Server: srv, Ln: ln})
	}
	return out, nil
}

// ServeAll serves every listener until ctx is done or one of them fails, then shuts them all
// down (each bounded by shutdownTimeout). A service's public and management servers live and
// stop together: a service whose probes cannot be served would be killed anyway.
func ServeAll(ctx context.Context, log *slog.Logger, shutdownTimeout time.Duration, ls ...Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(ls))
	var wg sync.WaitGroup
	for i, l := range ls {
		wg.Go(func() {
			errs[i] = ServeListener(ctx, l.Server, l.Ln, log, shutdownTimeout)
			cancel()
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ServeListener is Serve on an existing listener (tests listen on 127.0.0.1:0).
func ServeListener(ctx context.Context, srv *http.Server, ln net.Listener, log *slog.Logger, shutdownTimeout time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("http server listening", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("http server shutting down", "timeout", shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("http server shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}
