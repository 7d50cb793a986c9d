package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/backend/store"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestEvents_OnlyForExistingDomainWrites(t *testing.T) {
	clk := &clock{now: time.Now()}
	s, db := newStore(t, store.WithClock(clk.Now))
	ctx := testCtx(t)

	it, err := s.CreateItem(ctx, "seller@example.com", "lamp", 4)
	if err != nil {
		t.Fatal(err)
	}
	// A process that died after queueing an event but before its domain write leaves this:
	orphan := store.Event{
		ID: "orphan", RoutingKey: contract.RoutingKeyItemAdded, Body: []byte(`{}`),
		Source: store.CollItems, SourceID: bson.NewObjectID(), CreatedAt: clk.Now(),
	}
	if _, err := db.Collection(store.CollOutbox).InsertOne(ctx, orphan); err != nil {
		t.Fatal(err)
	}

	evs, err := s.Events(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].ID != it.EventID || evs[0].RoutingKey != contract.RoutingKeyItemAdded {
		t.Fatalf("events = %+v, want only the add of %s", evs, it.ID.Hex())
	}
	// The orphan's domain write might still be under way: it stays until OrphanAfter.
	if n, _ := db.Collection(store.CollOutbox).CountDocuments(ctx, bson.D{{Key: "_id", Value: "orphan"}}); n != 1 {
		t.Fatalf("young orphan deleted too early")
	}
	clk.Add(store.OrphanAfter + time.Second)
	if _, err := s.Events(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.Collection(store.CollOutbox).CountDocuments(ctx, bson.D{{Key: "_id", Value: "orphan"}}); n != 0 {
		t.Fatalf("old orphan not deleted")
	}

	// Deleting the item does not cancel its add event: it happened.
	if err := s.DeleteItem(ctx, it.ID, "seller@example.com"); err != nil {
		t.Fatal(err)
	}
	evs, err = s.Events(ctx, 100)
	if err != nil || len(evs) != 1 {
		t.Fatalf("events after delete = %+v, %v", evs, err)
	}
	if err := s.Published(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if evs, _ := s.Events(ctx, 100); len(evs) != 0 {
		t.Fatalf("published events still pending: %+v", evs)
	}
}

func TestEvents_FinishBuyInterruptedBeforeMarkSold(t *testing.T) {
	s, db := newStore(t)
	ctx := testCtx(t)
	it, err := s.CreateItem(ctx, "seller@example.com", "lamp", 4)
	if err != nil {
		t.Fatal(err)
	}
	// A buy that claimed the item and died before marking it sold, some time ago (a live
	// process's entries are left to it for ForeignAfter):
	order := store.Order{ItemID: it.ID, BuyerEmail: "b@example.com", SellerEmail: it.OwnerEmail,
		Seller: it.Owner, Name: it.Name, Price: it.Price, EventID: "buy-1", BoughtAt: time.Now()}
	if _, err := db.Collection(store.CollOutbox).InsertOne(ctx, store.Event{
		ID: "buy-1", RoutingKey: contract.RoutingKeyItemBought, Body: []byte(`{}`),
		Writer: "dead process", Source: store.CollOrders, SourceID: it.ID,
		CreatedAt: time.Now().Add(-store.ForeignAfter - time.Second),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection(store.CollOrders).InsertOne(ctx, order); err != nil {
		t.Fatal(err)
	}
	// Until the relay runs the item is still listed, but nobody else can buy it.
	if _, err := s.Buy(ctx, it.ID, "c@example.com"); !errors.Is(err, store.ErrSold) {
		t.Fatalf("second buyer: %v, want ErrSold", err)
	}
	evs, err := s.Events(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("events = %+v, want add and buy", evs)
	}
	if _, err := s.GetItem(ctx, it.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("item still available after relay: %v", err)
	}
	items, err := s.ListItems(ctx, "", store.Page{Limit: 10})
	if err != nil || len(items) != 0 {
		t.Fatalf("listing = %+v, %v; want empty", items, err)
	}
}

// Another replica's entry is left to it for ForeignAfter, then published by whichever relay
// finds its domain write, so a dead replica's events still go out.
func TestEvents_ForeignEntriesWaitForTheirWriter(t *testing.T) {
	clk := &clock{now: time.Now()}
	s, db := newStore(t, store.WithClock(clk.Now))
	other := store.New(db.Client().Database(db.Name()), store.WithClock(clk.Now)) // another replica
	ctx := testCtx(t)
	it, err := other.CreateItem(ctx, "seller@example.com", "lamp", 4)
	if err != nil {
		t.Fatal(err)
	}
	if evs, err := s.Events(ctx, 10); err != nil || len(evs) != 0 {
		t.Fatalf("a young foreign entry was taken: %+v, %v", evs, err)
	}
	if evs, err := other.Events(ctx, 10); err != nil || len(evs) != 1 {
		t.Fatalf("its writer does not see it ready: %+v, %v", evs, err)
	}
	clk.Add(store.ForeignAfter + time.Second)
	evs, err := s.Events(ctx, 10)
	if err != nil || len(evs) != 1 || evs[0].ID != it.EventID {
		t.Fatalf("after ForeignAfter: %+v, %v", evs, err)
	}
}
