package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/services/internal/mongox"
)

// Collection names in the backend's database.
const (
	CollItems  = "items"
	CollOrders = "orders"
	CollOutbox = "outbox"
)

// Store is the backend's data access. It is safe for concurrent use.
type Store struct {
	items  *mongo.Collection
	orders *mongo.Collection
	outbox *mongo.Collection

	// written is called after a domain write that left an event in the outbox, so the relay
	// publishes it now instead of at its next poll.
	written func()
	now     func() time.Time

	// writes, when set, queues database writes (see gate.go).
	writes chan struct{}
	reads  chan struct{}

	// instance identifies this process's outbox entries; local remembers their state.
	instance string
	local    *local
}

// Option configures a Store.
type Option func(*Store)

// WithWriteHook sets the function called after every write that queued an event.
func WithWriteHook(fn func()) Option { return func(s *Store) { s.written = fn } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns a Store on db.
func New(db *mongo.Database, opts ...Option) *Store {
	s := &Store{
		items:    db.Collection(CollItems),
		orders:   db.Collection(CollOrders),
		outbox:   db.Collection(CollOutbox),
		written:  func() {},
		now:      time.Now,
		instance: rand.Text(),
		local:    newLocal(),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// EnsureIndexes creates the indexes the queries need. It is idempotent and runs at start.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	specs := []struct {
		coll *mongo.Collection
		keys bson.D
	}{
		// Listings: available items in id order, for everyone or one owner.
		{s.items, bson.D{{Key: fieldStatus, Value: 1}, {Key: mongox.FieldID, Value: 1}}},
		{s.items, bson.D{{Key: fieldOwner, Value: 1}, {Key: fieldStatus, Value: 1}, {Key: mongox.FieldID, Value: 1}}},
		// A buyer's orders in id order.
		{s.orders, bson.D{{Key: fieldBuyerEmail, Value: 1}, {Key: mongox.FieldID, Value: 1}}},
		// The relay drains the oldest entries first.
		{s.outbox, bson.D{{Key: "created_at", Value: 1}}},
	}
	for _, spec := range specs {
		if _, err := spec.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: spec.keys}); err != nil {
			return fmt.Errorf("create index on %s: %w", spec.coll.Name(), err)
		}
	}
	return nil
}

// Ping checks that the database answers, for /readyz.
func (s *Store) Ping(ctx context.Context) error {
	return s.items.Database().Client().Ping(ctx, nil)
}

// Page selects a slice of a listing ordered by id: the items after After (zero: from the
// start), at most Limit of them.
type Page struct {
	After bson.ObjectID
	Limit int
}

func (p Page) filter(f bson.D) bson.D {
	if !p.After.IsZero() {
		f = append(f, bson.E{Key: mongox.FieldID, Value: bson.D{{Key: "$gt", Value: p.After}}})
	}
	return f
}

// findOptions sorts by id and asks for the whole page in the first batch: the server's
// default first batch (101 documents) would cost a getMore round trip on bigger pages.
func (p Page) findOptions() *options.FindOptionsBuilder {
	return options.Find().SetSort(bson.D{{Key: mongox.FieldID, Value: 1}}).
		SetLimit(int64(p.Limit)).SetBatchSize(int32(p.Limit))
}
