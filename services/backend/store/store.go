package store

import (
	"context"
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
	// CollPublished records the events the broker confirmed, by event id, until the
	// recovery checkpoint passes them; CollRelay holds that checkpoint.
	CollPublished = "events_published"
	CollRelay     = "relay"
)

// MongoDB query and update operators the store uses.
const (
	opSet    = "$set"
	opMax    = "$max"
	opGt     = "$gt"
	opGte    = "$gte"
	opLt     = "$lt"
	opIn     = "$in"
	opOr     = "$or"
	opExists = "$exists"
)

// Store is the backend's data access. It is safe for concurrent use.
type Store struct {
	items     *mongo.Collection
	orders    *mongo.Collection
	published *mongo.Collection
	relay     *mongo.Collection
	// deletions is auth's record of deleted accounts, read only (deletions.go).
	deletions *mongo.Collection

	// onEvent is handed every event whose document was written, so the relay publishes it
	// now, without reading the database (see outbox.go).
	onEvent func(Event)
	now     func() time.Time

	// writes, when set, queues database writes (see gate.go).
	writes chan struct{}
	reads  chan struct{}

	// itemInserts sends new items by group commit (see insertbatch.go).
	itemInserts *insertBatcher
}

// Option configures a Store.
type Option func(*Store)

// WithEventHook sets the function handed each event after its document was written. It
// must not block: it runs on the request's goroutine.
func WithEventHook(fn func(Event)) Option { return func(s *Store) { s.onEvent = fn } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns a Store on db.
func New(db *mongo.Database, opts ...Option) *Store {
	s := &Store{
		items:     db.Collection(CollItems),
		orders:    db.Collection(CollOrders),
		published: db.Collection(CollPublished),
		relay:     db.Collection(CollRelay),
		onEvent:   func(Event) {},
		now:       time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	insertItems := unorderedInsert(s.items)
	s.itemInserts = &insertBatcher{send: func(ctx context.Context, docs []any) (*mongo.InsertManyResult, error) {
		// Through the write gate.
		return write(ctx, s, func() (*mongo.InsertManyResult, error) { return insertItems(ctx, docs) })
	}}
	return s
}

// EnsureIndexes creates the indexes the queries need and, the first time, the relay's
// recovery checkpoint. It is idempotent and runs at start.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	specs := []struct {
		coll *mongo.Collection
		keys bson.D
	}{
		// Listings: available items in id order, for everyone or one owner.
		{s.items, bson.D{{Key: fieldStatus, Value: 1}, {Key: mongox.FieldID, Value: 1}}},
		{s.items, bson.D{{Key: fieldOwner, Value: 1}, {Key: fieldStatus, Value: 1}, {Key: mongox.FieldID, Value: 1}}},
		// A buyer's orders in id order.
		{s.orders, bson.D{{Key: fieldBuyerID, Value: 1}, {Key: mongox.FieldID, Value: 1}}},
		// A deleted account's listings (deletions.go) and the documents still to migrate.
		{s.items, bson.D{{Key: fieldOwnerID, Value: 1}}},
		// The relay's recovery reads the events since its checkpoint (PendingEvents) and
		// forgets older publication records.
		{s.items, bson.D{{Key: fieldCreatedAt, Value: 1}}},
		{s.orders, bson.D{{Key: fieldBoughtAt, Value: 1}}},
		{s.published, bson.D{{Key: fieldCreatedAt, Value: 1}}},
	}
	for _, spec := range specs {
		if _, err := spec.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: spec.keys}); err != nil {
			return fmt.Errorf("create index on %s: %w", spec.coll.Name(), err)
		}
	}
	return s.startCheckpoint(ctx)
}

// Page selects a slice of a listing ordered by id: the items after After (zero: from the
// start), at most Limit of them.
type Page struct {
	After bson.ObjectID
	Limit int
}

func (p Page) filter(f bson.D) bson.D {
	if !p.After.IsZero() {
		f = append(f, bson.E{Key: mongox.FieldID, Value: bson.D{{Key: opGt, Value: p.After}}})
	}
	return f
}

// findOptions sorts by id and asks for the whole page in the first batch: the server's
// default first batch (101 documents) would cost a getMore round trip on bigger pages.
func (p Page) findOptions() *options.FindOptionsBuilder {
	return options.Find().SetSort(bson.D{{Key: mongox.FieldID, Value: 1}}).
		SetLimit(int64(p.Limit)).SetBatchSize(int32(p.Limit))
}
