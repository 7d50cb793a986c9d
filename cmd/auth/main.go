// Command auth is the shop's account and token service. Configuration comes from the
// environment (see internal/contract and services/auth.ConfigFromEnv); SIGTERM drains
// in-flight requests and exits.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"littleecom.io/littleecom/internal/version"
	"littleecom.io/littleecom/services/auth"
)

func main() {
	if version.Requested(os.Args[1:]) {
		version.Print(os.Stdout, "auth")
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "auth:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error { return auth.Main(ctx) }
