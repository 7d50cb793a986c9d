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
	// ItemCacheTTL and ItemCacheSize bound the item cache of GET /item/{id}
	// (store/itemcache.go): a zero turns it off.
	ItemCacheTTL  time.Duration `env:"ITEM_CACHE_TTL"`
	ItemCacheSize int           `env:"ITEM_CACHE_SIZE"`
	// ShutdownTimeout bounds the wait for in-flight requests on SIGTERM.
	ShutdownTimeout time.Duration
	// Tracing makes the backend's spans (requests, calls to auth, event publications); nil
	// is the process-wide provider, which Main sets from the OTEL_* environment.
	Tracing trace.TracerProvider
}

// The item cache's defaults: a second bounds how long a replica that did not hear of
// another's write may show the item as it was (the change feed normally tells it within
// milliseconds), and ten thousand items of a few hundred bytes are a few megabytes.
const (
	DefaultItemCacheTTL  = time.Second
	DefaultItemCacheSize = 10000
)

// ConfigFromEnv reads the configuration. AUTH_JWKS_URL is required: without auth's keys no
// authenticated route can work, and guessing auth's address would hide the mistake.
func ConfigFromEnv() (Config, error) {
	cfg := Config{
		HTTPAddr:        config.DefaultHTTPAddr,
		ManagementAddr:  config.DefaultManagementAddr,
		Issuer:          contract.DefaultIssuer,
		Audience:        contract.DefaultAudience,
		ShutdownTimeout: 20 * time.Second,
		ItemCacheTTL:    DefaultItemCacheTTL,
		ItemCacheSize:   DefaultItemCacheSize,
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
	if cfg.ItemCacheTTL < 0 || cfg.ItemCacheSize < 0 {
		return cfg, fmt.Errorf("%s and %s must not be negative (0 turns the item cache off)", contract.EnvItemCacheTTL, contract.EnvItemCacheSize)
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
		slog.Duration("item_cache_ttl", c.ItemCacheTTL),
		slog.Int("item_cache_size", c.ItemCacheSize),
	)
}
