// Command notifier consumes the shop's item events and sends the e-mails they call for.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"littleecom.io/littleecom/internal/version"
	"littleecom.io/littleecom/services/notifier"
)

func main() {
	if version.Requested(os.Args[1:]) {
		version.Print(os.Stdout, "notifier")
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "notifier:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error { return notifier.Main(ctx) }
