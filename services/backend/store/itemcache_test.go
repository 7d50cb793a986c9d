package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"
	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/services/backend/store"
)

// clock is a settable time for the cache's age limit.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// twoReplicas returns two stores with item caches on one fresh database: a writer and the
// replica that did not write.
func twoReplicas(t *testing.T, clk *clock, ttl time.Duration) (writer, other *store.Store) {
	t.Helper()
	writer, db := newStore(t, store.WithClock(clk.now), store.WithItemCache(ttl, 100))
	return writer, store.New(db, store.WithClock(clk.now), store.WithItemCache(ttl, 100))
}

func shown(t *testing.T, s *store.Store, id bson.ObjectID) store.Item {
	t.Helper()
	it, err := s.ShownItem(t.Context(), id)
	if err != nil {
		t.Fatalf("ShownItem(%s): %v", id.Hex(), err)
	}
	return it
}

// Two stores on one database stand for two backend replicas; the writes go through the
// real FerretDB, so what each shows is what a shopper on that replica would see.
func TestItemCache_WriterSeesItsWritesOthersWithinTheAgeLimit(t *testing.T) {
	clk := &clock{t: time.Now()}
	const ttl = 2 * time.Second
	writer, other := twoReplicas(t, clk, ttl)
	ctx := testCtx(t)
	seller := acct("seller@example.com")

	it, err := writer.CreateItem(ctx, seller, "lamp", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*store.Store{writer, other} {
		shown(t, s, it.ID)
		if got := shown(t, s, it.ID); got.Name != "lamp" || got.Price != 1000 {
			t.Fatalf("shown %+v, want lamp at 1000", got)
		}
		if st := s.ItemCacheStats(); st.Hits != 1 || st.Misses != 1 {
			t.Fatalf("stats after two lookups: %+v, want one miss then one hit", st)
		}
	}

	if _, err := writer.UpdateItem(ctx, it.ID, seller, "lamp, blue", 1200); err != nil {
		t.Fatal(err)
	}
	if got := shown(t, writer, it.ID); got.Name != "lamp, blue" || got.Price != 1200 {
		t.Fatalf("the writer shows %+v after its update, want the new name and price", got)
	}
	// The other replica has not heard of the update: its copy stands until the age limit...
	if got := shown(t, other, it.ID); got.Name != "lamp" {
		t.Fatalf("the other replica shows %+v before the age limit, want its cached copy (this test's premise)", got)
	}
	clk.add(ttl)
	// ...and not a moment longer.
	if got := shown(t, other, it.ID); got.Name != "lamp, blue" || got.Price != 1200 {
		t.Fatalf("the other replica shows %+v once its copy is %s old, want the update", got, ttl)
	}

	// Told of a change (the feed between replicas), it reads again at once.
	if _, err := writer.UpdateItem(ctx, it.ID, seller, "lamp, red", 1300); err != nil {
		t.Fatal(err)
	}
	other.ForgetItem(it.ID)
	if got := shown(t, other, it.ID); got.Name != "lamp, red" {
		t.Fatalf("after ForgetItem the other replica shows %+v, want the update", got)
	}

	// Sold and deleted items leave the writer's view at once.
	sold, err := writer.CreateItem(ctx, seller, "chair", 500)
	if err != nil {
		t.Fatal(err)
	}
	shown(t, writer, sold.ID)
	if _, err := writer.Buy(ctx, sold.ID, acct("buyer@example.com")); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.ShownItem(ctx, sold.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the writer shows a sold item it had cached: err %v, want ErrNotFound", err)
	}
	shown(t, writer, it.ID)
	if err := writer.DeleteItem(ctx, it.ID, seller); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.ShownItem(ctx, it.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the writer shows a deleted item it had cached: err %v, want ErrNotFound", err)
	}
}

func TestItemCache_MissesAreNotCached(t *testing.T) {
	writer, db := newStore(t, store.WithItemCache(time.Hour, 100))
	other := store.New(db, store.WithItemCache(time.Hour, 100))
	ctx := testCtx(t)
	it, err := writer.CreateItem(ctx, acct("seller@example.com"), "lamp", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := writer.DeleteItem(ctx, it.ID, acct("seller@example.com")); err != nil {
		t.Fatal(err)
	}
	missing := bson.NewObjectID()
	if _, err := other.ShownItem(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unknown id: err %v, want ErrNotFound", err)
	}
	if _, err := other.ShownItem(ctx, it.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a deleted item: err %v, want ErrNotFound", err)
	}
	// An item written under an id a replica found nothing under is shown there at once.
	// (The backend's ids are the driver's, fresh each time; the test writes one itself.)
	if _, err := db.Collection(store.CollItems).InsertOne(ctx, bson.D{
		{Key: "_id", Value: missing}, {Key: "owner", Value: "seller"}, {Key: "name", Value: "desk"},
		{Key: "price", Value: 3000.0}, {Key: "status", Value: store.StatusAvailable},
	}); err != nil {
		t.Fatal(err)
	}
	if got := shown(t, other, missing); got.Name != "desk" {
		t.Fatalf("shown %+v, want the desk written after the miss", got)
	}
	if st := other.ItemCacheStats(); st.Hits != 0 {
		t.Fatalf("stats %+v: nothing should have been answered from the cache", st)
	}
}

func TestItemCache_SuspendedServesFromTheDatabase(t *testing.T) {
	writer, db := newStore(t, store.WithItemCache(time.Hour, 100))
	other := store.New(db, store.WithItemCache(time.Hour, 100))
	ctx := testCtx(t)
	seller := acct("seller@example.com")
	it, err := writer.CreateItem(ctx, seller, "lamp", 1000)
	if err != nil {
		t.Fatal(err)
	}
	shown(t, other, it.ID) // cached for an hour

	resume := other.SuspendItemCache()
	if _, err := writer.UpdateItem(ctx, it.ID, seller, "lamp, blue", 1200); err != nil {
		t.Fatal(err)
	}
	if got := shown(t, other, it.ID); got.Name != "lamp, blue" {
		t.Fatalf("suspended, the other replica shows %+v, want the database's", got)
	}
	shown(t, other, it.ID)
	if st := other.ItemCacheStats(); st.Hits != 0 {
		t.Fatalf("stats %+v: a suspended cache answered", st)
	}
	// What was cached before the suspension is forgotten on resume: writes in between
	// went unheard.
	if _, err := writer.UpdateItem(ctx, it.ID, seller, "lamp, red", 1300); err != nil {
		t.Fatal(err)
	}
	resume()
	resume() // idempotent: the cache must not end up serving twice resumed
	if got := shown(t, other, it.ID); got.Name != "lamp, red" {
		t.Fatalf("after resume the other replica shows %+v, want the database's", got)
	}
	if got := shown(t, other, it.ID); got.Name != "lamp, red" {
		t.Fatalf("shown %+v", got)
	}
	if st := other.ItemCacheStats(); st.Hits != 1 {
		t.Fatalf("stats %+v: after resume the second lookup should be a hit", st)
	}
}

// An entry read past its renewal point is renewed in the background: a hot item never makes a
// reader wait for the database, and what it shows is never older than the age limit.
func TestItemCache_RenewsHotEntriesAhead(t *testing.T) {
	clk := &clock{t: time.Now()}
	const ttl = 2 * time.Second
	writer, other := twoReplicas(t, clk, ttl)
	ctx := testCtx(t)
	seller := acct("seller@example.com")
	it, err := writer.CreateItem(ctx, seller, "lamp", 1000)
	if err != nil {
		t.Fatal(err)
	}
	shown(t, other, it.ID)
	if _, err := writer.UpdateItem(ctx, it.ID, seller, "lamp, blue", 1200); err != nil {
		t.Fatal(err)
	}
	clk.add(ttl * 3 / 4)
	// Within the age limit the cached copy is served, and its renewal starts.
	if got := shown(t, other, it.ID); got.Name != "lamp" {
		t.Fatalf("shown %q, want the cached copy (this test's premise)", got.Name)
	}
	gomega.NewWithT(t).Eventually(func() string { return shown(t, other, it.ID).Name }).
		WithTimeout(30*time.Second).Should(gomega.Equal("lamp, blue"), "the renewal lands")
	// The renewed entry outlives the first one's limit: no reader went to the database.
	clk.add(ttl / 2)
	if got := shown(t, other, it.ID); got.Name != "lamp, blue" {
		t.Fatalf("shown %q after the first entry's limit", got.Name)
	}
	if st := other.ItemCacheStats(); st.Misses != 1 {
		t.Fatalf("stats %+v: only the first lookup should have read the database on a reader's time", st)
	}
}
