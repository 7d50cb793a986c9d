package backend

import (
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/cors"
	"littleecom.io/littleecom/services/backend/relay"
	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/config"
	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/mongox"
)

// Config is the backend's whole configuration, from the env vars of internal/contract.
type Config struct {
	HTTPAddr string `env:"HTTP_ADDR"`
	// ManagementAddr serves health, readiness and metrics (MANAGEMENT_ADDR).
	ManagementAddr string        `env:"MANAGEMENT_ADDR"`
	Mongo          mongox.Config `env:"-"`
	AMQP           relay.Config  `env:"-"`
	// JWKSURL is auth's key set; Issuer and Audience must match its tokens.
	JWKSURL  string      `env:"AUTH_JWKS_URL"`
	Issuer   string      `env:"AUTH_ISSUER"`
	Audience string      `env:"AUTH_AUDIENCE"`
	CORS     cors.Policy `env:"-"`
	// ShutdownTimeout bounds the wait for in-flight requests on SIGTERM.
	ShutdownTimeout time.Duration
	// Tracing makes the backend's spans (requests, calls to auth, event publications); nil
	// is the process-wide provider, which Main sets from the OTEL_* environment.
	Tracing trace.TracerProvider
}

// ConfigFromEnv reads the configuration. AUTH_JWKS_URL is required: without auth's keys no
// authenticated route can work, and guessing auth's address would hide the mistake.
func ConfigFromEnv() (Config, error) {
	cfg := Config{
		HTTPAddr:        config.DefaultHTTPAddr,
		ManagementAddr:  config.DefaultManagementAddr,
		Issuer:          contract.DefaultIssuer,
		Audience:        contract.DefaultAudience,
		ShutdownTimeout: 20 * time.Second,
	}
	if err := config.Parse(&cfg); err != nil {
		return cfg, err
	}
	var err error
	if cfg.AMQP.Conn, err = amqpx.ConfigFromEnv(); err != nil {
		return cfg, fmt.Errorf("amqp config: %w", err)
	}
	if cfg.Mongo, err = mongox.ConfigFromEnv(contract.DatabaseBackend); err != nil {
		return cfg, fmt.Errorf("mongodb config: %w", err)
	}
	if cfg.CORS, err = httpx.CORSFromEnv(); err != nil {
		return cfg, fmt.Errorf("cors config: %w", err)
	}
	if cfg.JWKSURL == "" {
		return cfg, fmt.Errorf("%s must be set (auth's %s)", contract.EnvAuthJWKSURL, contract.PathJWKS)
	}
	return cfg, nil
}

// LogValue lists the settings, secrets masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.String("management_addr", c.ManagementAddr),
		slog.Any("mongodb", c.Mongo),
		slog.Any("amqp", c.AMQP),
		slog.String("jwks_url", c.JWKSURL),
		slog.String("issuer", c.Issuer),
		slog.String("audience", c.Audience),
		slog.Bool("cors", c.CORS.Enabled),
	)
}
