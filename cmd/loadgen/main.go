// Command loadgen measures the backend: it starts FerretDB and the backend as child processes
// on loopback, drives GET /items, GET /item/{id}, POST /item and POST /buy/{id} at a fixed
// concurrency and prints req/s, p50/p99, errors and CPU time per request of the backend and
// of the database. See services/backend/loadgen.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"littleecom.io/littleecom/services/backend/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error { return loadgen.Main(ctx, os.Args[1:]) }
