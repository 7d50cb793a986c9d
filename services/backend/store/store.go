package store

import (
	"context"
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

	// itemInserts and orderInserts send new items and buy claims by group commit (see
	// insertbatch.go); removals delete bought items by group commit (bought.go).
	itemInserts  *insertBatcher
	orderInserts *insertBatcher
	removals     *groupCommit[bson.ObjectID, struct{}]
	// noSecondaryIndexes: the database uses no index but _id's (indexes.go).
	noSecondaryIndexes bool
	// cache, when set, keeps the items GET /item/{id} shows for a short time (itemcache.go).
	cache *itemCache
	// changes hears of every item write, for the other replicas' caches.
	changes ItemChanges
}

// Option configures a Store.
type Option func(*Store)

// WithEventHook sets the function handed each event after its document was written. It
// must not block: it runs on the request's goroutine.
func WithEventHook(fn func(Event)) Option { return func(s *Store) { s.onEvent = fn } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithItemCache keeps each item GetItem read for up to ttl, at most size of them
// (itemcache.go). A ttl or size of zero or less keeps none.
func WithItemCache(ttl time.Duration, size int) Option {
	return func(s *Store) {
		if ttl > 0 && size > 0 {
			s.cache = newItemCache(ttl, size, func() time.Time { return s.now() })
		}
	}
}

// ItemChanges hears of the item writes of this replica: the feed that tells the other
// replicas to forget their cached copies (services/backend/itemfeed). Its methods must not
// block: they run on the request's goroutine.
type ItemChanges interface {
	ItemChanged(id bson.ObjectID)
	// ItemsChanged is a write whose items only the database knows.
	ItemsChanged()
}

// WithItemChanges sets who hears of this replica's item writes.
func WithItemChanges(c ItemChanges) Option { return func(s *Store) { s.changes = c } }

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
	s.itemInserts = s.groupInserts(s.items)
	s.orderInserts = s.groupInserts(s.orders)
	s.removals = s.groupRemovals()
	return s
}

// groupInserts returns the group-commit inserter of coll; its commands go through the
// write gate.
func (s *Store) groupInserts(coll *mongo.Collection) *insertBatcher {
	insert := unorderedInsert(coll)
	return newInsertBatcher(func(ctx context.Context, docs []any) (*mongo.InsertManyResult, error) {
		return write(ctx, s, func() (*mongo.InsertManyResult, error) { return insert(ctx, docs) })
	})
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
