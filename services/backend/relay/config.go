package relay

import (
	"log/slog"
	"time"

	"littleecom.io/littleecom/services/internal/config"
	"littleecom.io/littleecom/services/internal/topology"
)

// Config says where to publish and how hard to try.
type Config struct {
	// URL is amqp://host:port/vhost; credentials may be in it (tests) or in Username/Password.
	URL      string
	Username string
	Password config.Secret

	// Batch is how many entries are read and published per round, all confirms outstanding
	// at once (waiting for each confirm in turn is ten times slower).
	Batch int
	// Poll is how often the outbox is read when no write nudged the relay (other replicas'
	// writes, entries left by a crash).
	Poll time.Duration
	// Linger is how long the relay waits after a nudge before reading the outbox, so that
	// under load one round publishes the events of many requests (each round costs a few
	// database round trips whatever its size). It adds that much latency to each event.
	Linger time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failure, doubling in between.
	MinBackoff, MaxBackoff time.Duration
	// ConfirmTimeout bounds the wait for a batch's confirms; then the connection is dropped
	// and the batch retried.
	ConfirmTimeout time.Duration
	// DialTimeout bounds connecting.
	DialTimeout time.Duration

	// Topology is passed to topology.DeclareWith (tests shorten the retry delays).
	Topology topology.Options
}

func (c Config) withDefaults() Config {
	if c.Batch <= 0 {
		c.Batch = 200
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Linger <= 0 {
		c.Linger = 10 * time.Millisecond
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 200 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.ConfirmTimeout <= 0 {
		c.ConfirmTimeout = 15 * time.Second
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 5 * time.Second
	}
	return c
}

// LogValue shows the settings without the password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", c.URL),
		slog.String("username", c.Username),
		slog.Bool("password_set", c.Password.IsSet()),
		slog.Int("batch", c.Batch),
	)
}
