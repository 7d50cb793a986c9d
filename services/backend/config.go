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
	HTTPAddr string
	// ManagementAddr serves health, readiness and metrics (MANAGEMENT_ADDR).
	ManagementAddr string
	Mongo          mongox.Config
	AMQP           relay.Config
	// JWKSURL is auth's key set; Issuer and Audience must match its tokens.
	JWKSURL  string
	Issuer   string
	Audience string
	CORS     cors.Policy
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
		HTTPAddr:        config.HTTPAddr(),
		ManagementAddr:  config.ManagementAddr(),
		AMQP:            relay.Config{Conn: amqpx.ConfigFromEnv()},
		JWKSURL:         config.String(contract.EnvAuthJWKSURL, ""),
		Issuer:          config.String(contract.EnvAuthIssuer, contract.DefaultIssuer),
		Audience:        config.String(contract.EnvAuthAudience, contract.DefaultAudience),
		ShutdownTimeout: 20 * time.Second,
	}
	var err error
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
