package main

import (
	"flag"
	"os"

	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"littleecom.io/littleecom/internal/version"
)

func init() {
	// --version prints the release and exits while the flags are parsed, as -help does.
	flag.BoolFunc("version", "Print the version and exit.", func(string) error {
		version.Print(os.Stdout, "manager")
		os.Exit(0)
		return nil
	})
	// The manager's metrics endpoint (controller-runtime's registry) says which release
	// runs, as the services' /metrics do.
	metrics.Registry.MustRegister(version.NewCollector("manager"))
}
