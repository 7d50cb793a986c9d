// Package mongox connects the services to MongoDB (or FerretDB in tests) from the contract's
// env vars, with credentials kept out of the URI and bounded timeouts on every phase.
package mongox

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/config"
)

// FieldID is the primary key field every MongoDB document has.
const FieldID = "_id"

// DefaultMaxPoolSize stays under 40: with the driver's default of 100, 200 concurrent
// writers deadlocked FerretDB's SQLite backend when it was measured (the load generator,
// services/backend/loadgen, produces such a load).
const DefaultMaxPoolSize = 32

// Config is how to reach the database. It is safe to log: the password is a Secret and the
// URI must not carry credentials (they come from their own env vars, filled from Secrets).
type Config struct {
	URI         string        `env:"MONGODB_URI"`
	Username    string        `env:"MONGODB_USERNAME"`
	Password    config.Secret `env:"MONGODB_PASSWORD"`
	AuthSource  string        `env:"MONGODB_AUTH_SOURCE"`
	Database    string        `env:"MONGODB_DATABASE"`
	MaxPoolSize int           `env:"MONGODB_MAX_POOL_SIZE"`
	// ConnectTimeout bounds dialling and the server selection of every operation.
	ConnectTimeout time.Duration
}

// ConfigFromEnv reads MONGODB_* with defaultDB as the database when MONGODB_DATABASE is unset.
func ConfigFromEnv(defaultDB string) (Config, error) {
	cfg := Config{
		URI:            "mongodb://127.0.0.1:27017/",
		AuthSource:     "admin",
		Database:       defaultDB,
		MaxPoolSize:    DefaultMaxPoolSize,
		ConnectTimeout: 10 * time.Second,
	}
	if err := config.Parse(&cfg); err != nil {
		return cfg, err
	}
	if cfg.MaxPoolSize <= 0 {
		return cfg, fmt.Errorf("%s=%d: must be positive", contract.EnvMongoMaxPool, cfg.MaxPoolSize)
	}
	return cfg, nil
}

// LogValue lists the settings without the password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("uri", c.URI),
		slog.String("username", c.Username),
		slog.Bool("password_set", c.Password.IsSet()),
		slog.String("auth_source", c.AuthSource),
		slog.String("database", c.Database),
		slog.Int("max_pool_size", c.MaxPoolSize),
	)
}

// Connect opens a client and pings the primary, failing within ConnectTimeout when the
// server is unreachable (the driver alone would wait 30 s per operation).
func Connect(ctx context.Context, cfg Config) (*mongo.Client, error) {
	timeout := cfg.ConnectTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	pool := cfg.MaxPoolSize
	if pool <= 0 {
		pool = DefaultMaxPoolSize
	}
	opts := options.Client().
		ApplyURI(cfg.URI).
		SetMaxPoolSize(uint64(pool)).
		SetConnectTimeout(timeout).
		SetServerSelectionTimeout(timeout).
		SetAppName("littleecom")
	if cfg.Username != "" {
		opts.SetAuth(options.Credential{
			Username:   cfg.Username,
			Password:   cfg.Password.Reveal(),
			AuthSource: cfg.AuthSource,
		})
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("mongodb client for %s: %w", cfg.URI, err)
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := client.Ping(pctx, readpref.Primary()); err != nil {
		_ = Disconnect(ctx, client)
		return nil, fmt.Errorf("mongodb ping %s: %w", cfg.URI, err)
	}
	return client, nil
}

// DisconnectTimeout bounds Disconnect: a shutdown must not hang on an unreachable server.
const DisconnectTimeout = 5 * time.Second

// Disconnect closes client within DisconnectTimeout. It ignores ctx's cancellation (the
// usual caller is a shutdown whose context has just ended) but keeps its values.
func Disconnect(ctx context.Context, client *mongo.Client) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DisconnectTimeout)
	defer cancel()
	return client.Disconnect(ctx)
}

// Ping returns a readiness check for health.Handler: it pings the primary.
func Ping(client *mongo.Client) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := client.Ping(ctx, readpref.Primary()); err != nil {
			return fmt.Errorf("mongodb ping: %w", err)
		}
		return nil
	}
}
