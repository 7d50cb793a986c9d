package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"littleecom.io/littleecom/services/internal/testinfra"
)

// heardChanges records the item writes a store announces to the other replicas.
type heardChanges struct {
	mu  sync.Mutex
	ids map[bson.ObjectID]int
}

func (h *heardChanges) ItemChanged(id bson.ObjectID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ids[id]++
}

func (h *heardChanges) ItemsChanged() {}

func (h *heardChanges) count(id bson.ObjectID) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ids[id]
}

// heldRemovals is a store on a fresh FerretDB whose first removal command waits until
// release is closed, so that tests can line buys up behind it.
type heldRemovals struct {
	*heldCommands
	s     *Store
	db    *mongo.Database
	heard *heardChanges
}

func newHeldRemovals(t *testing.T) *heldRemovals {
	t.Helper()
	db := connect(t, testinfra.StartFerretDB(t)).Database("removals")
	h := &heldRemovals{heldCommands: newHeldCommands(), db: db, heard: &heardChanges{ids: map[bson.ObjectID]int{}}}
	h.s = New(db, WithWriteConcurrency(1), WithItemCache(time.Hour, 100), WithItemChanges(h.heard))
	send := h.s.removals.send
	h.s.removals.send = func(ctx context.Context, ids []bson.ObjectID) []outcome[struct{}] {
		h.sent(len(ids))
		return send(ctx, ids)
	}
	return h
}

// inItems reports whether the item's document is still in the items collection.
func (h *heldRemovals) inItems(t *testing.T, id bson.ObjectID) bool {
	t.Helper()
	n, err := h.db.Collection(CollItems).CountDocuments(context.Background(), bson.D{{Key: "_id", Value: id}})
	if err != nil {
		t.Fatalf("count %s: %v", id.Hex(), err)
	}
	return n == 1
}

func (h *heldRemovals) items(t *testing.T, n int) []Item {
	t.Helper()
	seller := Account{ID: "seller", Email: "seller@example.com"}
	items := make([]Item, n)
	for i := range items {
		it, err := h.s.CreateItem(context.Background(), seller, fmt.Sprintf("item %d", i), float64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		items[i] = it
	}
	return items
}

func buyer(i int) Account {
	return Account{ID: fmt.Sprintf("buyer%d", i), Email: fmt.Sprintf("b%d@example.com", i)}
}

// Buys that reach their removal while one is being sent share the next delete command, and
// each item ends up sold to its own buyer: gone from the collection, not shown (the cache
// forgot it), not listed, announced to the other replicas; a later buy is told it is sold.
func TestBought_WaitingBuysShareOneDeleteCommand(t *testing.T) {
	h := newHeldRemovals(t)
	ctx := context.Background()
	const buys = 20
	items := h.items(t, buys)
	for _, it := range items {
		if _, err := h.s.ShownItem(ctx, it.ID); err != nil { // cached
			t.Fatal(err)
		}
	}
	errs := make(chan error, buys)
	buy := func(i int) {
		_, err := h.s.Buy(ctx, items[i].ID, buyer(i))
		errs <- err
	}
	go buy(0)
	waitUntil(t, "the first removal is sent", func() bool { return len(h.commandSizes()) == 1 })
	for i := 1; i < buys; i++ {
		go buy(i)
	}
	waitUntil(t, "the other buys wait for their removals", func() bool { return h.s.removals.queued() == buys-1 })
	close(h.release)
	for range buys {
		if err := <-errs; err != nil {
			t.Fatalf("buy: %v", err)
		}
	}
	if got := h.commandSizes(); len(got) != 2 || got[0] != 1 || got[1] != buys-1 {
		t.Fatalf("removals per command = %v, want [1 %d]", got, buys-1)
	}
	if listed, err := h.s.ListItems(ctx, "", Page{Limit: 500}); err != nil || len(listed) != 0 {
		t.Errorf("listed after every item was bought: %+v, %v", listed, err)
	}
	for i, it := range items {
		if h.inItems(t, it.ID) {
			t.Errorf("item %d is still in the collection after its buy", i)
		}
		var o Order
		if err := h.s.orders.FindOne(ctx, bson.D{{Key: "_id", Value: it.ID}}).Decode(&o); err != nil || o.BuyerID != buyer(i).ID ||
			o.ItemEventID != it.EventID || !o.ItemCreatedAt.Equal(it.CreatedAt) {
			t.Errorf("item %d: order %+v, %v; want it bought by %s, keeping the item's add event", i, o, err, buyer(i).ID)
		}
		if _, err := h.s.ShownItem(ctx, it.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("item %d is still shown after its buy: %v", i, err)
		}
		if _, err := h.s.Buy(ctx, it.ID, buyer(buys)); !errors.Is(err, ErrSold) {
			t.Errorf("item %d bought again: %v, want ErrSold", i, err)
		}
		if n := h.heard.count(it.ID); n == 0 {
			t.Errorf("item %d: its buy was not announced to the other replicas", i)
		}
	}
	if _, err := h.s.Buy(ctx, bson.NewObjectID(), buyer(buys)); !errors.Is(err, ErrNotFound) {
		t.Errorf("buy of an item never listed: %v, want ErrNotFound", err)
	}
}

// A buy whose removal failed still stands (the order is in) but hands the relay nothing:
// its recovery deletes the item and publishes the buy and, from the order, the item's add
// event if it never went out.
func TestBought_FailedRemovalLeftToRecovery(t *testing.T) {
	h := newHeldRemovals(t)
	close(h.release)
	ctx := context.Background()
	var hooked []Event
	h.s.onEvent = func(e Event) { hooked = append(hooked, e) }
	items := h.items(t, 1)
	hooked = nil // the add event, as if its process died before publishing it
	send := h.s.removals.send
	h.s.removals.send = func(context.Context, []bson.ObjectID) []outcome[struct{}] {
		return failAll[struct{}](1, errors.New("database gone"))
	}
	o, err := h.s.Buy(ctx, items[0].ID, buyer(0))
	if err != nil || o.ItemID != items[0].ID {
		t.Fatalf("buy = %+v, %v; want the order although the removal failed", o, err)
	}
	if len(hooked) != 0 || !h.inItems(t, items[0].ID) {
		t.Fatalf("after the failed removal: events %+v, item in the collection %v; want none and yes", hooked, h.inItems(t, items[0].ID))
	}
	h.s.removals.send = send
	rec, err := h.s.PendingEvents(ctx, time.Now().Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, e := range rec.Events {
		ids[e.ID] = true
	}
	if len(rec.Events) != 2 || !ids[items[0].EventID] || !ids[o.EventID] {
		t.Errorf("recovered %+v, want the add and the buy, once each", rec.Events)
	}
	if h.inItems(t, items[0].ID) {
		t.Error("recovery left the bought item in the collection")
	}
}

// Items a previous version marked sold leave the items collection once the checkpoint has
// passed their sale; those sold later, and the items on sale, stay.
func TestBought_LegacySoldItemsCleared(t *testing.T) {
	h := newHeldRemovals(t)
	close(h.release)
	ctx := context.Background()
	items := h.items(t, 3)
	checkpoint := time.Now().UTC().Truncate(time.Millisecond)
	if err := h.s.Recovered(ctx, checkpoint); err != nil {
		t.Fatal(err)
	}
	for i, at := range map[int]time.Time{0: checkpoint.Add(-time.Hour), 1: checkpoint.Add(time.Hour)} {
		_, err := h.db.Collection(CollItems).UpdateOne(ctx, bson.D{{Key: "_id", Value: items[i].ID}}, bson.D{{Key: "$set", Value: bson.D{
			{Key: fieldStatus, Value: StatusSold}, {Key: fieldUpdatedAt, Value: at}, {Key: "buyer_email", Value: "b@example.com"},
		}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	n, err := h.s.ClearLegacySold(ctx)
	if err != nil || n != 1 {
		t.Fatalf("cleared %d, %v; want the one sold before the checkpoint", n, err)
	}
	if h.inItems(t, items[0].ID) || !h.inItems(t, items[1].ID) || !h.inItems(t, items[2].ID) {
		t.Errorf("in the collection: sold before %v, sold after %v, on sale %v; want only the first gone",
			h.inItems(t, items[0].ID), h.inItems(t, items[1].ID), h.inItems(t, items[2].ID))
	}
}

// Removing an item that is gone already, as the relay's recovery may, is not an error.
func TestBought_RemovingAgainIsNoError(t *testing.T) {
	h := newHeldRemovals(t)
	close(h.release)
	for range 2 {
		if err := h.s.removeBought(context.Background(), bson.NewObjectID()); err != nil {
			t.Fatalf("remove: %v", err)
		}
	}
}
