package itemfeed_test

import (
	"context"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/onsi/gomega"
	amqp "github.com/rabbitmq/amqp091-go"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/backend/itemfeed"
	"littleecom.io/littleecom/services/backend/store"
	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/testinfra"
	"littleecom.io/littleecom/services/internal/topology"
)

// replica is one backend replica's store with its cache and feed. The caches keep items
// for an hour: whatever a replica learns of another's write, it learns from the feed.
type replica struct {
	store *store.Store
	feed  *itemfeed.Feed
}

func startReplica(t *testing.T, db *mongo.Database, amqpURL string) replica {
	t.Helper()
	var feed *itemfeed.Feed
	st := store.New(db, store.WithItemCache(time.Hour, 1000), store.WithItemChanges(changes{&feed}))
	cfg := amqpx.Config{URL: amqpURL, ReconnectMin: 50 * time.Millisecond, ReconnectMax: 200 * time.Millisecond}
	feed = itemfeed.New(cfg, st, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); feed.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return replica{store: st, feed: feed}
}

// changes hands the store's announcements to the feed made after it.
type changes struct{ feed **itemfeed.Feed }

func (c changes) ItemChanged(id bson.ObjectID) { (*c.feed).ItemChanged(id) }
func (c changes) ItemsChanged()                { (*c.feed).ItemsChanged() }

func database(t *testing.T) *mongo.Database {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(testinfra.StartFerretDB(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database(contract.DatabaseBackend)
}

// backendUser is the least-privilege user the operator's definitions give the backend.
func backendUser(t *testing.T, vhost string) string {
	t.Helper()
	return testinfra.AMQPUser(t, vhost, testinfra.Permissions{
		Configure: contract.BackendAMQPConfigure, Write: contract.BackendAMQPWrite, Read: contract.BackendAMQPRead,
	})
}

// waitFor polls cond until it holds; the broker and the database are real, so the wait is
// generous.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	gomega.NewWithT(t).Eventually(cond).WithTimeout(30*time.Second).WithPolling(10*time.Millisecond).
		Should(gomega.BeTrue(), what)
}

// seller lists the items of the tests.
var seller = store.Account{ID: "id:seller", Email: "seller@example.com"}

// listening starts two replicas, a on urlA and b on urlB, and waits until both feeds listen.
func listening(t *testing.T, db *mongo.Database, urlA, urlB string) (a, b replica) {
	t.Helper()
	a, b = startReplica(t, db, urlA), startReplica(t, db, urlB)
	waitFor(t, "both feeds listen", func() bool { return a.feed.Listening() && b.feed.Listening() })
	return a, b
}

// lamp lists an item for sale through s.
func lamp(t *testing.T, s *store.Store) store.Item {
	t.Helper()
	it, err := s.CreateItem(t.Context(), seller, "lamp", 1000)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func name(t *testing.T, s *store.Store, id bson.ObjectID) string {
	t.Helper()
	it, err := s.ShownItem(t.Context(), id)
	if err != nil {
		t.Fatalf("ShownItem: %v", err)
	}
	return it.Name
}

func TestFeed_ReplicasForgetWhatAnotherWrote(t *testing.T) {
	vhost := testinfra.AMQPVHost(t)
	declareExchange(t, vhost) // as the operator's definitions do
	db := database(t)
	a, b := listening(t, db, backendUser(t, vhost), backendUser(t, vhost))
	ctx := t.Context()
	it := lamp(t, a.store)
	name(t, b.store, it.ID)
	if name(t, b.store, it.ID); b.store.ItemCacheStats().Hits != 1 {
		t.Fatalf("b's cache: %+v, want the second lookup answered from it", b.store.ItemCacheStats())
	}
	if _, err := a.store.UpdateItem(ctx, it.ID, seller, "lamp, blue", 1200); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b shows a's update", func() bool { return name(t, b.store, it.ID) == "lamp, blue" })
	if err := a.store.DeleteItem(ctx, it.ID, seller); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b no longer shows the item a deleted", func() bool {
		_, err := b.store.ShownItem(ctx, it.ID)
		return err != nil
	})
}

// A replica cut off from the broker cannot hear the others: it serves from the database
// until it is back, and then caches again.
func TestFeed_CutOffReplicaServesFromTheDatabase(t *testing.T) {
	vhost := testinfra.AMQPVHost(t) // the feeds declare the exchange themselves
	u, err := url.Parse(vhost)
	if err != nil {
		t.Fatal(err)
	}
	proxy := testinfra.NewProxy(t, u.Host)
	proxy.Start()
	viaProxy := *u
	viaProxy.Host = proxy.Addr

	db := database(t)
	a, b := listening(t, db, vhost, viaProxy.String())
	ctx := t.Context()
	it := lamp(t, a.store)
	name(t, b.store, it.ID) // cached for an hour

	proxy.Stop()
	waitFor(t, "b notices it is cut off", func() bool { return !b.feed.Listening() })
	if _, err := a.store.UpdateItem(ctx, it.ID, seller, "lamp, blue", 1200); err != nil {
		t.Fatal(err)
	}
	hits := b.store.ItemCacheStats().Hits
	if got := name(t, b.store, it.ID); got != "lamp, blue" {
		t.Fatalf("cut off, b shows %q, want the database's", got)
	}
	name(t, b.store, it.ID)
	if got := b.store.ItemCacheStats().Hits; got != hits {
		t.Fatalf("cut off, b answered %d lookups from its cache", got-hits)
	}

	proxy.Start()
	waitFor(t, "b hears the others again", b.feed.Listening)
	name(t, b.store, it.ID)
	if name(t, b.store, it.ID); b.store.ItemCacheStats().Hits != hits+1 {
		t.Fatalf("back, b's cache: %+v, want it answering again", b.store.ItemCacheStats())
	}
	if _, err := a.store.UpdateItem(ctx, it.ID, seller, "lamp, red", 1300); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b shows a's update after coming back", func() bool { return name(t, b.store, it.ID) == "lamp, red" })
}

// A message the feed cannot read must not leave a stale copy behind.
func TestFeed_UnreadableMessageForgetsEverything(t *testing.T) {
	vhost := testinfra.AMQPVHost(t)
	conn := dial(t, vhost)
	db := database(t)
	a, b := listening(t, db, vhost, vhost)
	ctx := t.Context()
	it := lamp(t, a.store)
	name(t, b.store, it.ID)
	// Changed behind every replica's back, then announced in a form no replica writes.
	if _, err := db.Collection(store.CollItems).UpdateOne(ctx, bson.D{{Key: "_id", Value: it.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "lamp, green"}}}}); err != nil {
		t.Fatal(err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.PublishWithContext(ctx, contract.ItemChangesExchange, "", false, false,
		amqp.Publishing{Type: "item", Body: []byte("not an id")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b forgets its copy", func() bool { return name(t, b.store, it.ID) == "lamp, green" })
}

// Under a broker whose definitions lack the exchange, the backend's user may not declare
// it: the cache stays off, and the relay and the notifier, which do not need it, are not
// held up (they ensure the shop topology only).
func TestFeed_WithoutTheExchangeTheCacheStaysOff(t *testing.T) {
	vhost := testinfra.AMQPVHost(t)
	if err := topology.Ensure(dial(t, vhost), topology.Options{}); err != nil {
		t.Fatal(err)
	}
	user := backendUser(t, vhost)
	if err := topology.Ensure(dial(t, user), topology.Options{}); err != nil {
		t.Fatalf("the backend's user should find the shop topology complete without the item change exchange: %v", err)
	}
	db := database(t)
	r := startReplica(t, db, user)
	it := lamp(t, r.store)
	for range 3 {
		name(t, r.store, it.ID)
	}
	if r.feed.Listening() || r.store.ItemCacheStats().Hits != 0 {
		t.Fatalf("listening %v, stats %+v: the cache must stay off without the exchange", r.feed.Listening(), r.store.ItemCacheStats())
	}
	declareExchange(t, vhost)
	waitFor(t, "the feed listens once the exchange exists", r.feed.Listening)
}

func declareExchange(t *testing.T, amqpURL string) {
	t.Helper()
	ch, err := dial(t, amqpURL).Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare(contract.ItemChangesExchange, contract.ExchangeKindFanout, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
}

func dial(t *testing.T, amqpURL string) *amqp.Connection {
	t.Helper()
	conn, err := amqp.Dial(amqpURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}
