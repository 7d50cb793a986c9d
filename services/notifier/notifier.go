// Package notifier turns the shop's item events into e-mails. It consumes the item-added and
// item-bought queues with manual acks, sends over SMTP, retries through TTL queues with
// back-off, parks poison messages in the dead-letter queue and sends each event's e-mail once
// (claims in MongoDB, see store/claims.go). The topology itself lives in services/internal/topology.
package notifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.opentelemetry.io/otel/trace"

	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/metrics"
	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/internal/topology"
	"littleecom.io/littleecom/services/notifier/store"
)

// Config is the notifier's settings. It is safe to log (secrets are config.Secret).
type Config struct {
	// NoRelay is set when SMTP_HOST is present but empty: no relay is configured, so the
	// notifier must not consume (Main then only serves its probes).
	NoRelay bool

	// ManagementAddr is where Main serves the probes and metrics (MANAGEMENT_ADDR; the
	// notifier has no public port); ShutdownTimeout bounds that server's graceful stop. Only
	// Main uses them (ConfigFromEnv fills them).
	ManagementAddr  string `env:"MANAGEMENT_ADDR"`
	ShutdownTimeout time.Duration

	// AMQP is how to reach RabbitMQ, and how long to wait between connection attempts.
	AMQP amqpx.Config `env:"-"`

	// Prefetch is the number of unacknowledged messages RabbitMQ hands each consumer (one
	// per queue); Workers is how many messages are handled at once across both queues.
	Prefetch    int `env:"NOTIFIER_PREFETCH"`
	Workers     int `env:"NOTIFIER_WORKERS"`
	MaxAttempts int `env:"NOTIFIER_MAX_ATTEMPTS"`
	// RetryDelays must match the retry queues declared; empty means
	// topology.DefaultRetryDelays (tests declare others).
	RetryDelays []time.Duration
	// ClaimLease is how long a claim protects an e-mail being sent before another worker
	// may retake it; longer than SMTP's DialTimeout+SendTimeout.
	ClaimLease time.Duration
	// ClaimRetention is the dedup window.
	ClaimRetention time.Duration
	// ClaimPurgeEvery is how often expired claims are deleted where the database does not
	// expire them itself (FerretDB). Claims live for a month by default: an hour late is
	// nothing.
	ClaimPurgeEvery time.Duration

	SMTP SMTPConfig

	// Tracing makes the consumer and SMTP spans, children of the publisher's span the
	// message headers name; nil is the process-wide provider (Main sets it from OTEL_*).
	Tracing trace.TracerProvider
}

// hooks let tests stop the notifier at the exact points a crash matters.
type hooks struct {
	afterClaim func(key string) error
	afterSend  func(key string)
}

// Notifier consumes events and sends e-mails. Create it with New, run it with Run.
type Notifier struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics.Metrics
	claims  *store.Store
	sender  *sender
	hooks   hooks

	conn atomic.Pointer[amqp.Connection] // the live connection, nil between sessions
}

// New checks cfg and prepares a notifier whose claims live in db.
func New(cfg Config, db *mongo.Database, m *metrics.Metrics, log *slog.Logger) (*Notifier, error) {
	cfg, err := cfg.resolved()
	if err != nil {
		return nil, err
	}
	return &Notifier{
		cfg:     cfg,
		log:     log,
		metrics: m,
		claims:  store.New(db, cfg.ClaimLease, cfg.Workers),
		sender:  newSender(cfg.SMTP),
	}, nil
}

// Run consumes until ctx ends, reconnecting with back-off when the connection drops. On
// ctx's end it cancels its consumers, lets in-flight messages finish and returns nil.
func (n *Notifier) Run(ctx context.Context) error {
	defer n.sender.close()
	// The claim batchers outlive every session: in-flight messages still need them after
	// ctx ended.
	stopBatchers := make(chan struct{})
	waitBatchers := n.claims.Run(stopBatchers)
	defer func() {
		close(stopBatchers)
		waitBatchers()
	}()
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	ttl, err := n.claims.EnsureIndexes(ictx, n.cfg.ClaimRetention)
	cancel()
	switch {
	case err != nil:
		// Dedup does not need the expiry; only old claims stay longer.
		n.log.Warn("claims kept without expiry", "err", err)
	case !ttl:
		n.log.Warn("the database has no TTL indexes (FerretDB): expired claims are purged by the notifier")
		purger := mongox.Purger{Sets: n.claims.Expiring(n.cfg.ClaimRetention), Now: n.claims.Now}
		var purging sync.WaitGroup
		defer purging.Wait()
		purging.Go(func() { purger.Run(ctx, n.cfg.ClaimPurgeEvery, n.log) })
	}

	backoff := amqpx.NewBackoff(n.cfg.AMQP)
	for {
		start := time.Now()
		err := n.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > time.Minute {
			backoff.Reset() // it ran fine for a while: start over
		}
		wait := backoff.Next()
		n.log.Warn("rabbitmq session ended; reconnecting", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// Ready reports whether the notifier holds a live RabbitMQ connection (for /readyz).
func (n *Notifier) Ready(context.Context) error {
	if n.conn.Load() == nil {
		return errors.New("not connected to rabbitmq")
	}
	return nil
}

// resolved returns c checked, with its defaults filled in and the From address in its two
// forms. It leaves c as it is, so calling it again on its result changes nothing.
func (c Config) resolved() (Config, error) {
	if err := c.AMQP.Validate(); err != nil {
		return c, fmt.Errorf("notifier: %w", err)
	}
	c.AMQP = c.AMQP.WithDefaults()
	if c.NoRelay {
		return c, nil
	}
	switch {
	case c.SMTP.Host == "" || c.SMTP.Port <= 0:
		return c, fmt.Errorf("notifier: SMTP host %q port %d", c.SMTP.Host, c.SMTP.Port)
	case c.SMTP.From == "":
		return c, errors.New("notifier: SMTP from address is empty")
	}
	from, err := mail.ParseAddress(c.SMTP.From)
	if err != nil {
		return c, fmt.Errorf("notifier: SMTP from address %q: %w", c.SMTP.From, err)
	}
	// The envelope (MAIL FROM) takes the bare address, the From header the full form.
	c.SMTP.envelopeFrom, c.SMTP.From = from.Address, from.String()
	c.SMTP.StartTLS = c.SMTP.startTLSMode()
	switch {
	case c.Prefetch <= 0 || c.Workers <= 0 || c.MaxAttempts <= 0:
		return c, fmt.Errorf("notifier: prefetch %d, workers %d, max attempts %d must be positive",
			c.Prefetch, c.Workers, c.MaxAttempts)
	}
	if len(c.RetryDelays) == 0 {
		c.RetryDelays = topology.DefaultRetryDelays
	}
	if c.ClaimLease <= 0 {
		c.ClaimLease = 2 * time.Minute
	}
	if c.ClaimRetention <= 0 {
		c.ClaimRetention = 30 * 24 * time.Hour
	}
	if c.ClaimPurgeEvery <= 0 {
		c.ClaimPurgeEvery = time.Hour
	}
	if c.SMTP.DialTimeout <= 0 {
		c.SMTP.DialTimeout = 10 * time.Second
	}
	if c.SMTP.SendTimeout <= 0 {
		c.SMTP.SendTimeout = 30 * time.Second
	}
	if c.SMTP.MaxIdle <= 0 {
		c.SMTP.MaxIdle = c.Workers
	}
	return c, nil
}
