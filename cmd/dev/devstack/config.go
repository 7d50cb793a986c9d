package devstack

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"littleecom.io/littleecom/internal/envtestbin"
)

// Environment variables the dev runner reads.
const (
	// EnvAddr is the gateway's listen address (default 127.0.0.1:8080).
	EnvAddr = "LITTLEECOM_ADDR"
	// EnvData is the data directory (default bin/dev).
	EnvData = "LITTLEECOM_DATA"
	// EnvOTLPEndpoint, when set, is the sample's spec.tracing.otlpEndpoint: the services
	// send their traces to that OTLP/HTTP collector (e.g. http://127.0.0.1:4318).
	EnvOTLPEndpoint = "LITTLEECOM_OTLP_ENDPOINT"
)

// Config says where the stack runs. Zero values take the defaults of make dev.
type Config struct {
	// Root is the repository root: config/crd/bases, config/samples and cmd/ are read from it.
	Root string
	// DataDir holds etcd's and FerretDB's data (kept across restarts), the kubeconfig, the
	// service binaries and the lock file. Default <Root>/bin/dev.
	DataDir string
	// Assets holds kube-apiserver and etcd. Default KUBEBUILDER_ASSETS, else the newest
	// <Root>/bin/k8s/<version>.
	Assets string
	// Addr is the gateway's listen address, default 127.0.0.1:8080 ("127.0.0.1:0": any).
	Addr string
	// Namespace receives the sample (default littleecom); Sample is the file applied
	// (default config/samples/shop_v1_littleecom.yaml).
	Namespace, Sample string
	// AMQPAddr is the local broker (default 127.0.0.1:5672), RabbitMQAPI its management API
	// (default http://127.0.0.1:15672), RabbitMQUser/Password its administrator (guest).
	AMQPAddr, RabbitMQAPI, RabbitMQUser, RabbitMQPassword string
	// VHost receives the operator's definitions (default littleecom-dev-<hash of DataDir>).
	VHost string
	// Ephemeral deletes the vhost and the imported users on Stop (tests). make dev keeps
	// them, as it keeps FerretDB's data, so queued events survive a restart.
	Ephemeral bool
	// Log receives every component's prefixed logs (default os.Stderr).
	Log io.Writer
	// Timeout bounds Start (default 3 minutes; the service build is most of a cold start).
	Timeout time.Duration
	// OTLPEndpoint, when set, goes into the sample's spec.tracing.otlpEndpoint before it is
	// applied; the operator then gives the services their OTEL_* environment, which the
	// runner passes on unchanged.
	OTLPEndpoint string
}

func (c *Config) defaults() error {
	if c.Root == "" {
		root, err := envtestbin.Root()
		if err != nil {
			return err
		}
		c.Root = root
	}
	c.DataDir = cmp.Or(c.DataDir, filepath.Join(c.Root, "bin", "dev"))
	if c.Assets == "" {
		c.Assets = envtestbin.Assets(c.Root)
	}
	if c.Assets == "" {
		return errors.New("no kube-apiserver/etcd: run make envtest (hack/build-envtest.sh builds them into bin/k8s) or set KUBEBUILDER_ASSETS")
	}
	c.Addr = cmp.Or(c.Addr, "127.0.0.1:8080")
	c.Namespace = cmp.Or(c.Namespace, "littleecom")
	c.Sample = cmp.Or(c.Sample, filepath.Join(c.Root, "config", "samples", "shop_v1_littleecom.yaml"))
	c.AMQPAddr = cmp.Or(c.AMQPAddr, "127.0.0.1:5672")
	c.RabbitMQAPI = cmp.Or(c.RabbitMQAPI, "http://127.0.0.1:15672")
	c.RabbitMQUser = cmp.Or(c.RabbitMQUser, "guest")
	c.RabbitMQPassword = cmp.Or(c.RabbitMQPassword, "guest")
	if c.VHost == "" {
		// One vhost (and one set of user names) per data directory: two stacks on one broker
		// (another checkout, LITTLEECOM_DATA) must not overwrite each other's users.
		abs, err := filepath.Abs(c.DataDir)
		if err != nil {
			return err
		}
		sum := sha256.Sum256([]byte(abs))
		c.VHost = "littleecom-dev-" + hex.EncodeToString(sum[:4])
	}
	if c.Log == nil {
		c.Log = os.Stderr
	}
	c.Timeout = cmp.Or(c.Timeout, 3*time.Minute)
	return nil
}
