package store

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"littleecom.io/littleecom/services/internal/mongox"
)

// FerretDB on SQLite writes one transaction at a time; concurrent writers wait in SQLite's
// busy handler, which retries with growing sleeps and starves unlucky requests for seconds
// (p99 of POST /item was 40x its p50 at concurrency 32). Queueing writes here instead, first
// come first served, gives the same throughput with fair latency. Against MongoDB, which
// writes concurrently, no gate is set.

// WithWriteConcurrency lets at most n database writes run at once (0: no limit).
func WithWriteConcurrency(n int) Option {
	return func(s *Store) {
		if n > 0 {
			s.writes = make(chan struct{}, n)
		}
	}
}

// WithReadConcurrency lets at most n database reads run at once (0: no limit). FerretDB
// answers every query from a scan on two shared cores; more than a few at once only makes
// each slower, and the ones that lose the race for CPU make the p99.
func WithReadConcurrency(n int) Option {
	return func(s *Store) {
		if n > 0 {
			s.reads = make(chan struct{}, n)
		}
	}
}

// read runs one database read through the read gate.
func read[T any](ctx context.Context, s *Store, op func() (T, error)) (T, error) {
	return gated(ctx, s.reads, op)
}

// write runs one database write through the gate. Blocked senders on a channel are served in
// arrival order, which is what makes the queue fair.
func write[T any](ctx context.Context, s *Store, op func() (T, error)) (T, error) {
	return gated(ctx, s.writes, op)
}

func gated[T any](ctx context.Context, gate chan struct{}, op func() (T, error)) (T, error) {
	if gate != nil {
		select {
		case gate <- struct{}{}:
			defer func() { <-gate }()
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
	return op()
}

// setByID sets fields of the document with _id id, through the write gate. The filter is
// the _id alone: FerretDB pushes nothing else down to SQLite. An item's cached copy is
// forgotten once the write has returned, whatever its outcome.
func (s *Store) setByID(ctx context.Context, coll *mongo.Collection, id bson.ObjectID, set bson.D) (*mongo.UpdateResult, error) {
	if coll == s.items {
		defer s.itemWritten(id)
	}
	return write(ctx, s, func() (*mongo.UpdateResult, error) {
		return coll.UpdateOne(ctx, bson.D{{Key: mongox.FieldID, Value: id}}, bson.D{{Key: opSet, Value: set}})
	})
}
