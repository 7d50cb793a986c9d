// Command ferretdb serves FerretDB v1 (the MongoDB wire protocol in pure Go, on SQLite; see
// internal/ferret) as the cluster's database: one process, its SQLite files in one directory
// (the image's volume), JSON logs on stderr. SIGTERM or Ctrl-C stops it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
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
	if err := os.MkdirAll(*dir, 0o750); err != nil {
		return err
	}
	// FerretDB reports a listen failure late, from a goroutine, and then serves nothing:
	// try the address first so that a taken port is a clear, immediate error.
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", *addr, err)
	}
	_ = l.Close()
	log.Info("serving", "addr", *addr, "data_dir", *dir, "version", version.Version())
	if err := ferret.Run(ctx, *addr, *dir, errorLines{log}); err != nil {
		return err
	}
	if ctx.Err() == nil {
		return errors.New("FerretDB stopped on its own")
	}
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
