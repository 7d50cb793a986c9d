package loadgen

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	mopts "go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/mongox"
)

// The database yardstick issues each route's database commands straight from this process
// with the mongo driver, at the same concurrency: what a route costs the database at least,
// and the rate a route cannot beat without a cache. Reads go to the backend's own items (the
// same documents its routes read); writes go to collections of their own in its database
// (yardstick_items, yardstick_orders), with documents shaped as the backend's, so its relay
// never sees them. Its "service CPU" is this process's: the driver's side of the commands.
// Its commands queue as the backend's do on FerretDB (store/gate.go: one write, four reads
// at a time): 32 writers at once make SQLite's busy handler fail some of them after 10 s
// ("database is locked").

// Collections of the yardstick's writes, the backend's items it reads, and field names of
// the backend's documents (store/item.go).
const (
	yardstickItems  = "yardstick_items"
	yardstickOrders = "yardstick_orders"
	ourItems        = "items"
	fName           = "name"
	fStatus         = "status"
	fPrice          = "price"
	fOwner          = "owner"
)

// yardstick holds the client and the ids its POST phase created, for its buys.
type yardstick struct {
	client *mongo.Client
	db     *mongo.Database
	// reads and writes queue the commands as the backend's gates do.
	reads, writes chan struct{}

	mu     sync.Mutex
	posted []bson.ObjectID
}

func newYardstick(ctx context.Context, dbAddr string, pool int) (*yardstick, error) {
	client, err := mongo.Connect(mopts.Client().ApplyURI("mongodb://" + dbAddr + "/?directConnection=true").
		SetMaxPoolSize(uint64(pool)))
	if err != nil {
		return nil, err
	}
	if err := client.Ping(ctx, nil); err != nil {
		_ = client.Disconnect(ctx)
		return nil, fmt.Errorf("yardstick: %w", err)
	}
	return &yardstick{client: client, db: client.Database(contract.DatabaseBackend),
		reads: make(chan struct{}, 4), writes: make(chan struct{}, 1)}, nil
}

func (y *yardstick) close() { _ = mongox.Disconnect(context.Background(), y.client) }

// gated runs op when gate has room.
func gated(ctx context.Context, gate chan struct{}, op func() error) error {
	select {
	case gate <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-gate }()
	return op()
}

// driver measures the yardstick's phases; its CPU is this process's.
func (y *yardstick) driver(o options, dbPID int) *driver {
	return &driver{name: "database alone", concurrency: o.concurrency, rate: o.rate, maxDuration: o.maxDuration,
		servicePID: os.Getpid(), dbPID: dbPID}
}

// listing is GET /items' query: available items in id order, one more than the page, the
// four listed fields.
func (y *yardstick) listing(ctx context.Context) error {
	opts := mopts.Find().SetSort(bson.D{{Key: mongox.FieldID, Value: 1}}).SetLimit(501).SetBatchSize(501).
		SetProjection(bson.D{{Key: mongox.FieldID, Value: 1}, {Key: fOwner, Value: 1}, {Key: fName, Value: 1}, {Key: fPrice, Value: 1}})
	return gated(ctx, y.reads, func() error {
		cur, err := y.db.Collection(ourItems).Find(ctx, bson.D{{Key: fStatus, Value: "available"}}, opts)
		if err != nil {
			return err
		}
		defer func() { _ = cur.Close(ctx) }()
		for cur.Next(ctx) {
		}
		return cur.Err()
	})
}

// item is GET /item/{id}'s query.
func (y *yardstick) item(ctx context.Context, id bson.ObjectID) error {
	return gated(ctx, y.reads, func() error {
		return y.db.Collection(ourItems).FindOne(ctx, bson.D{{Key: mongox.FieldID, Value: id}}).Err()
	})
}

// post is POST /item's insert: an item with its add event, as the backend writes it.
func (y *yardstick) post(ctx context.Context) error {
	now := time.Now().UTC()
	var res *mongo.InsertOneResult
	err := gated(ctx, y.writes, func() (err error) {
		res, err = y.db.Collection(yardstickItems).InsertOne(ctx, bson.D{
			{Key: fOwner, Value: "seller"}, {Key: "owner_id", Value: "seller-account-id"},
			{Key: "owner_email", Value: "seller@loadgen.test"}, {Key: fName, Value: "load test lamp"},
			{Key: fPrice, Value: 12.5}, {Key: fStatus, Value: "available"},
			{Key: "event_id", Value: bson.NewObjectID().Hex()}, {Key: "created_at", Value: now}, {Key: "updated_at", Value: now},
		})
		return err
	})
	if err != nil {
		return err
	}
	id, ok := res.InsertedID.(bson.ObjectID)
	if !ok {
		return fmt.Errorf("inserted id %v", res.InsertedID)
	}
	y.mu.Lock()
	y.posted = append(y.posted, id)
	y.mu.Unlock()
	return nil
}

func (y *yardstick) postedCount() int {
	y.mu.Lock()
	defer y.mu.Unlock()
	return len(y.posted)
}

// buy is POST /buy/{id}'s commands: read the item, insert the order (the claim, keyed by
// the item's id), delete the item.
func (y *yardstick) buy(ctx context.Context, i int, buyer string) error {
	y.mu.Lock()
	id := y.posted[i]
	y.mu.Unlock()
	items := y.db.Collection(yardstickItems)
	var it struct {
		Owner      string  `bson:"owner"`
		OwnerID    string  `bson:"owner_id"`
		OwnerEmail string  `bson:"owner_email"`
		Name       string  `bson:"name"`
		Price      float64 `bson:"price"`
	}
	var raw bson.Raw
	err := gated(ctx, y.reads, func() (err error) {
		raw, err = items.FindOne(ctx, bson.D{{Key: mongox.FieldID, Value: id}}).Raw()
		return err
	})
	if err != nil {
		return err
	}
	if err := bson.Unmarshal(raw, &it); err != nil {
		return err
	}
	now := time.Now().UTC()
	if err := gated(ctx, y.writes, func() error {
		_, err := y.db.Collection(yardstickOrders).InsertOne(ctx, bson.D{
			{Key: mongox.FieldID, Value: id}, {Key: "buyer_id", Value: buyer + "-id"}, {Key: "seller_id", Value: it.OwnerID},
			{Key: "buyer_email", Value: buyer}, {Key: "seller_email", Value: it.OwnerEmail}, {Key: "seller", Value: it.Owner},
			{Key: fName, Value: it.Name}, {Key: fPrice, Value: it.Price},
			{Key: "event_id", Value: bson.NewObjectID().Hex()}, {Key: "bought_at", Value: now},
			{Key: "item_event_id", Value: bson.NewObjectID().Hex()}, {Key: "item_created_at", Value: now},
		})
		return err
	}); err != nil {
		return err
	}
	return gated(ctx, y.writes, func() error {
		_, err := items.DeleteOne(ctx, bson.D{{Key: mongox.FieldID, Value: id}})
		return err
	})
}
