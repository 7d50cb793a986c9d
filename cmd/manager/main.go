// Command manager runs the LittleEcom operator.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"os"

	// Auth plugins for kubeconfigs of managed clusters (exec, OIDC, ...).
	_ "k8s.io/client-go/plugin/pkg/client/auth"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"littleecom.io/littleecom/controllers"
	"littleecom.io/littleecom/internal/version"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		metricsAddr, probeAddr string
		leaderElect, secure    bool
		enableHTTP2            bool
	)
	// --kubeconfig is registered by controller-runtime's config package.
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0",
		"Address of the metrics endpoint (:8443 for HTTPS, :8080 for HTTP, 0 disables it).")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address of /healthz and /readyz.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader so that only one manager reconciles at a time.")
	flag.BoolVar(&secure, "metrics-secure", true, "Serve metrics over HTTPS with authentication and authorization.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false, "Enable HTTP/2 for the metrics server (off: HTTP/2 rapid-reset CVEs).")
	settings := bindOperatorFlags(flag.CommandLine, os.LookupEnv)
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	namespaces, err := settings.watchNamespaces()
	if err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")

	scheme := controllers.NewScheme()

	var tlsOpts []func(*tls.Config)
	if !enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metrics := metricsserver.Options{BindAddress: metricsAddr, SecureServing: secure, TLSOpts: tlsOpts}
	if secure {
		metrics.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metrics,
		HealthProbeBindAddress:        probeAddr,
		LeaderElection:                leaderElect,
		LeaderElectionID:              "littleecom-operator.littleecom.io",
		LeaderElectionReleaseOnCancel: true, // run returns right after the manager stops
		Cache:                         controllers.CacheOptions(namespaces...),
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}
	if _, err := controllers.SetupWithOptions(mgr, controllers.DefaultReplicaSetManager(),
		controllers.Options{Images: settings.images, Namespaces: namespaces}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("adding ready check: %w", err)
	}
	log.Info("starting manager", "version", version.Version(), "watchNamespaces", namespaces, "defaultImages", settings.images)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		return fmt.Errorf("running manager: %w", err)
	}
	return nil
}
