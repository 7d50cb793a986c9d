// Command dev runs the whole shop on this machine (make dev): an envtest control plane, the
// operator, the minimal sample, FerretDB, RabbitMQ, an SMTP sink, the three services as local
// processes configured from the operator's Deployments, and a gateway that routes by the
// operator's Ingress. Ctrl-C (or SIGTERM) stops everything. See cmd/dev/devstack.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"littleecom.io/littleecom/cmd/dev/devstack"
)

func main() {
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := devstack.Start(ctx, devstack.ConfigFromEnv())
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "make dev: interrupted while starting; everything it started is stopped")
			return 0
		}
		fmt.Fprintln(os.Stderr, "make dev failed:", err)
		return 1
	}
	fmt.Print(s.ReadyMessage())
	code := 0
	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "stopping ...")
	case err := <-s.Failed():
		fmt.Fprintln(os.Stderr, "make dev: a component died:", err)
		code = 1
	}
	stop() // a second Ctrl-C now kills the runner outright
	done := make(chan error, 1)
	go func() { done <- s.Stop() }()
	select {
	case err := <-done:
		if err != nil {
			fmt.Fprintln(os.Stderr, "stopping:", err)
		}
	case <-time.After(9 * time.Second):
		fmt.Fprintln(os.Stderr, "stopping: gave up after 9s")
		code = 1
	}
	return code
}
