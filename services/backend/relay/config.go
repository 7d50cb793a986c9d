package relay

import (
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/topology"
)

// Config says where to publish and how hard to try.
type Config struct {
	// Conn is how to reach RabbitMQ, and how long to wait between attempts.
	Conn amqpx.Config

	// Batch is how many events are published per round, all confirms outstanding at once
	// (waiting for each confirm in turn is ten times slower).
	Batch int
	// MaxQueued bounds the events held in memory (a long broker outage); more wait in their
	// documents for recovery.
	MaxQueued int
	// RecoverEvery is how often the relay looks in the database for events nobody handed it:
	// those of a process that died before publishing them, or dropped by MaxQueued. It also
	// looks at start and after every new connection. On FerretDB the query scans the items.
	RecoverEvery time.Duration
	// RecoverAfter is how old a pending event must be before recovery takes it, so that the
	// relay of the replica that wrote it (which has it in memory) publishes it alone. It
	// must exceed the longest a request's insert can take (and the replicas' clock skew):
	// recovery moves its checkpoint to now minus RecoverAfter.
	RecoverAfter time.Duration
	// RecordAfter and RecordBatch say when confirmed events are recorded as published: once
	// the oldest waited RecordAfter, or as soon as RecordBatch of them wait, with one insert
	// for all of them. A record
	// only keeps recovery from publishing the event again: if the process dies first, the
	// event goes out a second time after RecoverAfter, and the notifier's dedup by event id
	// sends its e-mail once. Recording each round's events at once cost a database write
	// per 10 ms at low load; recording hundreds at once held the write gate long enough to
	// lengthen the inserts' tail under load (docs/performance-backend.md).
	RecordAfter time.Duration
	RecordBatch int
	// Tracing makes the publications' producer spans, each a child of the request that
	// wrote the event; nil is the process-wide provider.
	Tracing trace.TracerProvider
	// Linger is how long the relay waits after a new event before publishing, so that under
	// load one round publishes the events of many requests (each round costs a database
	// round trip to record them, whatever its size). It adds that much latency to each event.
	Linger time.Duration
	// ConfirmTimeout bounds the wait for a batch's confirms; then the connection is dropped
	// and the batch retried.
	ConfirmTimeout time.Duration

	// Topology is passed to topology.DeclareWith (tests shorten the retry delays).
	Topology topology.Options
}

func (c Config) withDefaults() Config {
	if c.Batch <= 0 {
		c.Batch = 200
	}
	if c.MaxQueued <= 0 {
		c.MaxQueued = 10000
	}
	if c.RecoverEvery <= 0 {
		c.RecoverEvery = 30 * time.Second
	}
	if c.RecoverAfter <= 0 {
		c.RecoverAfter = time.Minute
	}
	if c.RecordAfter <= 0 {
		c.RecordAfter = time.Second
	}
	if c.RecordBatch <= 0 {
		c.RecordBatch = 64
	}
	if c.Linger <= 0 {
		c.Linger = 10 * time.Millisecond
	}
	if c.ConfirmTimeout <= 0 {
		c.ConfirmTimeout = 15 * time.Second
	}
	c.Conn = c.Conn.WithDefaults()
	return c
}

// LogValue shows the settings without the password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("rabbitmq", c.Conn),
		slog.Int("batch", c.Batch),
	)
}
