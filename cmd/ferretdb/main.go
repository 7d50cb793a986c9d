// Command ferretdb serves FerretDB v1 (the MongoDB wire protocol in pure Go, on SQLite; see
// internal/ferret) as the cluster's database: one process, its SQLite files in one directory
// (the image's volume), JSON logs on stderr. SIGTERM or Ctrl-C stops it.
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"littleecom.io/littleecom/internal/ferret"
	"littleecom.io/littleecom/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("service", "ferretdb")
	if err := run(ctx, os.Args[1:], log); err != nil {
		log.Error("ferretdb failed", "err", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("ferretdb", flag.ContinueOnError)
	addr := fs.String("listen", "0.0.0.0:27017", "TCP address to serve the MongoDB wire protocol on")
	dir := fs.String("data", "/data", "directory of the SQLite files (one per database)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *showVersion {
		version.Print(os.Stdout, "ferretdb")
		return nil
	}
	// Start makes a taken port a clear, immediate error (FerretDB's own comes late, from a
	// goroutine) and returns once FerretDB listens, with the address it bound: the one that
	// is logged, and the way to learn the port of -listen 127.0.0.1:0.
	s, err := ferret.Start(*addr, *dir, errorLines{log})
	if err != nil {
		return err
	}
	log.Info("serving", "addr", s.Addr(), "data_dir", *dir, "version", version.Version())
	select {
	case <-s.Done():
		return errors.New("FerretDB stopped on its own")
	case <-ctx.Done():
	}
	s.Stop()
	<-s.Done() // Stop's wait is bounded; this process is the database, so it waits for FerretDB to close its files
	log.Info("stopped")
	return nil
}

// errorLines turns the records internal/ferret's logger writes (FerretDB's errors, one text
// record per Write) into records of our JSON logger, so that every line of output is JSON.
type errorLines struct{ log *slog.Logger }

var _ io.Writer = errorLines{}

func (e errorLines) Write(p []byte) (int, error) {
	for line := range strings.Lines(string(p)) {
		if line = strings.TrimSpace(line); line != "" {
			e.log.Error("ferretdb", "record", line)
		}
	}
	return len(p), nil
}
