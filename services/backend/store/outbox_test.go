package store_test

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/backend/store"
)

// hooked collects the events a Store hands to its relay.
type hooked struct {
	mu  sync.Mutex
	evs []store.Event
}

func (h *hooked) add(e store.Event) { h.mu.Lock(); h.evs = append(h.evs, e); h.mu.Unlock() }
func (h *hooked) all() []store.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]store.Event(nil), h.evs...)
}

// later is a cutoff that takes every pending event, however young.
func later() time.Time { return time.Now().Add(time.Hour) }

func TestEvents_WrittenWithTheirDocumentAndDoneWhenPublished(t *testing.T) {
	h := &hooked{}
	s, db := newStore(t, store.WithEventHook(h.add))
	ctx := testCtx(t)

	it, err := s.CreateItem(ctx, acct("seller@example.com"), "lamp", 4)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.all(); len(got) != 1 || got[0].ID != it.EventID || got[0].RoutingKey != contract.RoutingKeyItemAdded ||
		got[0].Source != store.CollItems || got[0].SourceID != it.ID || len(got[0].Body) == 0 {
		t.Fatalf("hook got %+v, want the add of %s", got, it.ID.Hex())
	}
	// The event is the item document itself: its id is in it, and nothing else was written.
	var doc store.Item
	if err := db.Collection(store.CollItems).FindOne(ctx, bson.D{{Key: "_id", Value: it.ID}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.EventID != it.EventID || !doc.CreatedAt.Equal(it.CreatedAt) {
		t.Fatalf("item document = %+v, want event %s at %v", doc, it.EventID, it.CreatedAt)
	}
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n != store.CollItems && n != store.CollRelay && n != store.CollPublished && n != store.CollOrders {
			t.Errorf("unexpected collection %q", n)
		}
		if n == store.CollPublished || n == store.CollOrders {
			if c, _ := db.Collection(n).CountDocuments(ctx, bson.D{}); c != 0 {
				t.Errorf("creating an item wrote %d documents to %s", c, n)
			}
		}
	}

	// Recovery leaves young events to the relay that has them in memory.
	if rec, err := s.PendingEvents(ctx, time.Now().Add(-time.Minute), 10); err != nil || len(rec.Events) != 0 {
		t.Fatalf("young events recovered: %+v, %v", rec, err)
	}
	evs := pendingNow(t, s, 1)
	if evs[0].ID != it.EventID || string(evs[0].Body) != string(h.all()[0].Body) {
		t.Fatalf("pending = %+v", evs)
	}

	// Deleting the item does not cancel its add event: it happened.
	if err := s.DeleteItem(ctx, it.ID, acct("seller@example.com")); err != nil {
		t.Fatal(err)
	}
	evs = pendingNow(t, s, 1)
	if err := s.Published(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if err := s.Published(ctx, evs); err != nil { // published twice: at least once
		t.Fatalf("recording an event twice: %v", err)
	}
	pendingNow(t, s, 0)
	if n, _ := db.Collection(store.CollPublished).CountDocuments(ctx, bson.D{}); n != 1 {
		t.Fatalf("publication records = %d, want 1", n)
	}
}

// pendingNow returns the pending events however young, and checks how many there are.
func pendingNow(t *testing.T, s *store.Store, want int) []store.Event {
	t.Helper()
	rec, err := s.PendingEvents(testCtx(t), later(), 100)
	if err != nil || len(rec.Events) != want {
		t.Fatalf("pending = %+v, %v; want %d events", rec.Events, err, want)
	}
	return rec.Events
}

// The checkpoint bounds what recovery reads and what the publication records keep.
func TestRecovered_CheckpointForgetsWhatIsBehindIt(t *testing.T) {
	clk := time.Now()
	s, db := newStore(t, store.WithClock(func() time.Time { return clk }))
	ctx := testCtx(t)
	old, err := s.CreateItem(ctx, acct("seller@example.com"), "old", 1)
	if err != nil {
		t.Fatal(err)
	}
	clk = clk.Add(time.Minute)
	if _, err := s.CreateItem(ctx, acct("seller@example.com"), "new", 1); err != nil {
		t.Fatal(err)
	}
	rec, err := s.PendingEvents(ctx, clk, 100) // before the new one
	if err != nil || len(rec.Events) != 1 || rec.Events[0].ID != old.EventID || !rec.Through.Equal(clk) {
		t.Fatalf("first look = %+v, %v", rec, err)
	}
	if err := s.Published(ctx, rec.Events); err != nil {
		t.Fatal(err)
	}
	if err := s.Recovered(ctx, rec.Through); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.Collection(store.CollPublished).CountDocuments(ctx, bson.D{}); n != 0 {
		t.Errorf("records behind the checkpoint = %d, want 0", n)
	}
	// The old event is behind the checkpoint (published), the new one still pending.
	evs := pendingNow(t, s, 1)
	if evs[0].ID == old.EventID {
		t.Errorf("an event behind the checkpoint is pending again")
	}
	// The checkpoint never moves back.
	if err := s.Recovered(ctx, clk.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	pendingNow(t, s, 1)

	// A look stopped by its limit gets only as far as the last event it read.
	clk = clk.Add(time.Minute)
	if _, err := s.CreateItem(ctx, acct("seller@example.com"), "newer", 1); err != nil {
		t.Fatal(err)
	}
	rec, err = s.PendingEvents(ctx, later(), 1)
	if err != nil || len(rec.Events) != 1 || !rec.Through.Equal(rec.Events[0].CreatedAt) {
		t.Fatalf("limited look = %+v, %v", rec, err)
	}
}

// lampBought lists a lamp and sells it to b@example.com.
func lampBought(t *testing.T, s *store.Store) (store.Item, store.Order) {
	t.Helper()
	ctx := testCtx(t)
	it, err := s.CreateItem(ctx, acct("seller@example.com"), "lamp", 4)
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.Buy(ctx, it.ID, acct("b@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	return it, o
}

func TestEvents_BuyCarriesItsEventAndLosersWriteNone(t *testing.T) {
	h := &hooked{}
	s, _ := newStore(t, store.WithEventHook(h.add))
	ctx := testCtx(t)
	it, o := lampBought(t, s)
	if _, err := s.Buy(ctx, it.ID, acct("c@example.com")); !errors.Is(err, store.ErrSold) {
		t.Fatalf("second buyer: %v", err)
	}
	got := h.all()
	if len(got) != 2 || got[1].ID != o.EventID || got[1].RoutingKey != contract.RoutingKeyItemBought ||
		got[1].Source != store.CollOrders || got[1].SourceID != it.ID {
		t.Fatalf("hook got %+v, want the add and one buy", got)
	}
	orders, err := s.ListOrders(ctx, acct("b@example.com"), store.Page{Limit: 10})
	if err != nil || len(orders) != 1 || orders[0].EventID != o.EventID {
		t.Fatalf("orders = %+v, %v; want the one carrying the buy event", orders, err)
	}
	pendingNow(t, s, 2)
}

func TestEvents_FinishBuyInterruptedBeforeItsItemWasRemoved(t *testing.T) {
	s, db := newStore(t)
	ctx := testCtx(t)
	it, err := s.CreateItem(ctx, acct("seller@example.com"), "lamp", 4)
	if err != nil {
		t.Fatal(err)
	}
	// A buy that claimed the item and died before deleting it: the order and its event.
	order := store.Order{ItemID: it.ID, BuyerEmail: "b@example.com", SellerEmail: it.OwnerEmail,
		Seller: it.Owner, Name: it.Name, Price: it.Price, EventID: "buy-1", BoughtAt: time.Now()}
	if _, err := db.Collection(store.CollOrders).InsertOne(ctx, order); err != nil {
		t.Fatal(err)
	}
	// Until the relay runs the item is still listed, but nobody else can buy it.
	if _, err := s.Buy(ctx, it.ID, acct("c@example.com")); !errors.Is(err, store.ErrSold) {
		t.Fatalf("second buyer: %v, want ErrSold", err)
	}
	if items, err := s.ListItems(ctx, "", store.Page{Limit: 10}); err != nil || len(items) != 1 {
		t.Fatalf("listing before recovery = %+v, %v; want the item", items, err)
	}
	pendingNow(t, s, 2)
	if _, err := s.GetItem(ctx, it.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("item still available after recovery: %v", err)
	}
	items, err := s.ListItems(ctx, "", store.Page{Limit: 10})
	if err != nil || len(items) != 0 {
		t.Fatalf("listing = %+v, %v; want empty", items, err)
	}
	// The sold item is gone; a later buyer is told it was sold.
	if _, err := s.Buy(ctx, it.ID, acct("d@example.com")); !errors.Is(err, store.ErrSold) {
		t.Fatalf("buyer after recovery: %v, want ErrSold", err)
	}
}

func TestPendingEvents_Bounded(t *testing.T) {
	s, _ := newStore(t)
	ctx := testCtx(t)
	for range 5 {
		if _, err := s.CreateItem(ctx, acct("seller@example.com"), "lamp", 1); err != nil {
			t.Fatal(err)
		}
	}
	if rec, err := s.PendingEvents(ctx, later(), 3); err != nil || len(rec.Events) != 3 {
		t.Fatalf("pending = %d, %v; want the limit, 3", len(rec.Events), err)
	}
}

// A bought item leaves the items collection at once, possibly before its add event went
// out: the order keeps that event, and recovery publishes it from there, once.
func TestEvents_AddEventOfAClearedItemRecoveredFromItsOrder(t *testing.T) {
	s, _ := newStore(t)
	ctx := testCtx(t)
	it, o := lampBought(t, s)
	evs := pendingNow(t, s, 2)
	byID := map[string]store.Event{}
	for _, e := range evs {
		byID[e.ID] = e
	}
	add, buy := byID[it.EventID], byID[o.EventID]
	if add.RoutingKey != contract.RoutingKeyItemAdded || add.SourceID != it.ID || !add.CreatedAt.Equal(it.CreatedAt) ||
		buy.RoutingKey != contract.RoutingKeyItemBought {
		t.Fatalf("pending %+v; want the cleared item's add event and the buy", evs)
	}
	want, err := json.Marshal(contract.ItemEvent{Email: it.OwnerEmail, Item: it.Name, Price: it.Price, EventID: it.EventID,
		ItemID: it.ID.Hex(), Seller: it.OwnerEmail, OccurredAt: it.CreatedAt.Format(time.RFC3339Nano)})
	if err != nil {
		t.Fatal(err)
	}
	if string(add.Body) != string(want) {
		t.Errorf("recovered add event %s, want %s (as the item would have said)", add.Body, want)
	}
	if err := s.Published(ctx, evs); err != nil {
		t.Fatal(err)
	}
	pendingNow(t, s, 0)
}

// An item listed before the checkpoint and bought after it: its add event is out, and the
// copy in the order is not taken for a pending one.
func TestEvents_AddEventBeforeTheCheckpointNotRecoveredFromTheOrder(t *testing.T) {
	clk := time.Now()
	s, _ := newStore(t, store.WithClock(func() time.Time { return clk }))
	ctx := testCtx(t)
	it, err := s.CreateItem(ctx, acct("seller@example.com"), "lamp", 4)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.PendingEvents(ctx, clk.Add(time.Second), 100)
	if err != nil || len(rec.Events) != 1 {
		t.Fatalf("first look = %+v, %v", rec, err)
	}
	if err := s.Published(ctx, rec.Events); err != nil {
		t.Fatal(err)
	}
	if err := s.Recovered(ctx, rec.Through); err != nil {
		t.Fatal(err)
	}
	clk = clk.Add(time.Minute)
	o, err := s.Buy(ctx, it.ID, acct("b@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if evs := pendingNow(t, s, 1); evs[0].ID != o.EventID {
		t.Errorf("pending %+v, want the buy alone", evs)
	}
}
