// Command backend is the shop's items service. Configuration comes from the environment
// (see internal/contract); SIGTERM shuts it down gracefully.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"littleecom.io/littleecom/internal/version"
	"littleecom.io/littleecom/services/backend"
)

func main() {
	if version.Requested(os.Args[1:]) {
		version.Print(os.Stdout, "backend")
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "backend:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error { return backend.Main(ctx) }
