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

// heldMarks is a store on a fresh FerretDB whose first sold-marker insert waits until
// release is closed, so that tests can line buys up behind it.
type heldMarks struct {
	*heldCommands
	s     *Store
	db    *mongo.Database
	heard *heardChanges
}

func newHeldMarks(t *testing.T, opts ...Option) *heldMarks {
	t.Helper()
	db := connect(t, testinfra.StartFerretDB(t)).Database("marks")
	h := &heldMarks{heldCommands: newHeldCommands(), db: db, heard: &heardChanges{ids: map[bson.ObjectID]int{}}}
	h.s = New(db, append([]Option{WithWriteConcurrency(1), WithItemCache(time.Hour, 100), WithItemChanges(h.heard)}, opts...)...)
	send := h.s.soldInserts.send
	h.s.soldInserts.send = func(ctx context.Context, docs []any) (*mongo.InsertManyResult, error) {
		h.sent(len(docs))
		return send(ctx, docs)
	}
	return h
}

// inItems reports whether the item's document is still in the items collection.
func (h *heldMarks) inItems(t *testing.T, id bson.ObjectID) bool {
	t.Helper()
	n, err := h.db.Collection(CollItems).CountDocuments(context.Background(), bson.D{{Key: "_id", Value: id}})
	if err != nil {
		t.Fatalf("count %s: %v", id.Hex(), err)
	}
	return n == 1
}

func (h *heldMarks) listed(t *testing.T, limit int) []bson.ObjectID {
	t.Helper()
	var ids []bson.ObjectID
	p := Page{Limit: limit}
	for {
		items, err := h.s.ListItems(context.Background(), "", p)
		if err != nil {
			t.Fatalf("list items: %v", err)
		}
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		if len(items) < limit {
			return ids
		}
		p.After = items[len(items)-1].ID
	}
}

func (h *heldMarks) items(t *testing.T, n int) []Item {
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

// Buys that reach their marker while one is being sent share the next insert command, and
// each item ends up sold to its own buyer: not shown (the cache forgot it), not listed,
// announced to the other replicas, and its document not rewritten.
func TestSoldMarks_WaitingBuysShareOneInsertCommand(t *testing.T) {
	h := newHeldMarks(t)
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
	waitUntil(t, "the first marker is sent", func() bool { return len(h.commandSizes()) == 1 })
	for i := 1; i < buys; i++ {
		go buy(i)
	}
	waitUntil(t, "the other buys wait for their markers", func() bool { return h.s.soldInserts.group.queued() == buys-1 })
	close(h.release)
	for range buys {
		if err := <-errs; err != nil {
			t.Fatalf("buy: %v", err)
		}
	}
	if got := h.commandSizes(); len(got) != 2 || got[0] != 1 || got[1] != buys-1 {
		t.Fatalf("markers per command = %v, want [1 %d]", got, buys-1)
	}
	if got := h.listed(t, 500); len(got) != 0 {
		t.Errorf("listed after every item was bought: %v", got)
	}
	for i, it := range items {
		var o Order
		if err := h.s.orders.FindOne(ctx, bson.D{{Key: "_id", Value: it.ID}}).Decode(&o); err != nil || o.BuyerID != buyer(i).ID {
			t.Errorf("item %d: order %+v, %v; want it bought by %s", i, o, err, buyer(i).ID)
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
		var doc Item
		if err := h.db.Collection(CollItems).FindOne(ctx, bson.D{{Key: "_id", Value: it.ID}}).Decode(&doc); err != nil ||
			doc.Status != StatusAvailable || !doc.UpdatedAt.Equal(it.UpdatedAt) {
			t.Errorf("item %d: document %+v, %v; want it as written, the order alone saying it is sold", i, doc, err)
		}
	}
}

// A listing page keeps its size around bought items: it reads on past them, and the next
// page starts after the last item shown.
func TestSoldMarks_ListingPagesSkipBoughtItems(t *testing.T) {
	h := newHeldMarks(t)
	close(h.release)
	ctx := context.Background()
	items := h.items(t, 7)
	for _, i := range []int{1, 2, 3, 5} {
		if _, err := h.s.Buy(ctx, items[i].ID, buyer(i)); err != nil {
			t.Fatal(err)
		}
	}
	want := []bson.ObjectID{items[0].ID, items[4].ID, items[6].ID}
	for _, limit := range []int{1, 2, 3, 10} {
		if got := h.listed(t, limit); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("pages of %d list %v, want %v", limit, got, want)
		}
	}
	// One owner's listing too.
	got, err := h.s.ListItems(ctx, items[0].Owner, Page{Limit: 2})
	if err != nil || len(got) != 2 || got[0].ID != items[0].ID || got[1].ID != items[4].ID {
		t.Errorf("owner's first page of 2 = %+v, %v; want items 0 and 4", got, err)
	}
}

// ClearSold deletes bought items and their markers at once when the order keeps the item's
// add event (every buy writes such orders), and a marker the recovery wrote for an order
// of an earlier version only once the checkpoint has passed its buy. Items on sale stay,
// bought items stay hidden either way, orders stay.
func TestSoldMarks_ClearSold(t *testing.T) {
	clk := time.Now().UTC().Truncate(time.Millisecond)
	h := newHeldMarks(t, WithClock(func() time.Time { return clk }))
	close(h.release)
	ctx := context.Background()
	if err := h.s.Recovered(ctx, clk.Add(-time.Hour)); err != nil { // the checkpoint
		t.Fatal(err)
	}
	items := h.items(t, 3)
	if _, err := h.s.Buy(ctx, items[0].ID, buyer(0)); err != nil {
		t.Fatal(err)
	}
	// An order of an earlier version, without its item's add event, and the marker the
	// recovery writes for it.
	old := Order{ItemID: items[1].ID, BuyerID: buyer(1).ID, BuyerEmail: buyer(1).Email, SellerEmail: items[1].OwnerEmail,
		Name: items[1].Name, Price: items[1].Price, EventID: "old-buy", BoughtAt: clk}
	if _, err := h.s.orders.InsertOne(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := h.s.markSold(ctx, items[1].ID, clk, false); err != nil {
		t.Fatal(err)
	}
	markers := func() int64 {
		n, err := h.db.Collection(CollSold).CountDocuments(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n, err := h.s.ClearSold(ctx); err != nil || n != 1 {
		t.Fatalf("cleared %d, %v; want the buy's item alone", n, err)
	}
	if h.inItems(t, items[0].ID) || !h.inItems(t, items[1].ID) || !h.inItems(t, items[2].ID) || markers() != 1 {
		t.Fatalf("items in the collection %v %v %v, %d markers; want the buy's item and marker gone",
			h.inItems(t, items[0].ID), h.inItems(t, items[1].ID), h.inItems(t, items[2].ID), markers())
	}
	if got := h.listed(t, 10); len(got) != 1 || got[0] != items[2].ID {
		t.Errorf("listed %v, want the unsold item alone", got)
	}
	for i := range 2 {
		if _, err := h.s.GetItem(ctx, items[i].ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("bought item %d: %v, want ErrNotFound", i, err)
		}
		var o Order
		if err := h.s.orders.FindOne(ctx, bson.D{{Key: "_id", Value: items[i].ID}}).Decode(&o); err != nil || o.BuyerID != buyer(i).ID {
			t.Errorf("bought item %d: order %+v, %v; the order stays", i, o, err)
		}
	}
	clk = clk.Add(time.Minute)
	if err := h.s.Recovered(ctx, clk); err != nil {
		t.Fatal(err)
	}
	if n, err := h.s.ClearSold(ctx); err != nil || n != 1 || h.inItems(t, items[1].ID) || !h.inItems(t, items[2].ID) || markers() != 0 {
		t.Errorf("after the checkpoint passed the old buy: cleared %d, %v; its item in the collection %v, unsold %v, %d markers",
			n, err, h.inItems(t, items[1].ID), h.inItems(t, items[2].ID), markers())
	}
}

// Marking twice, as the relay's recovery may after a buy that did mark, is not an error.
func TestSoldMarks_MarkingAgainIsNoError(t *testing.T) {
	h := newHeldMarks(t)
	close(h.release)
	ctx := context.Background()
	id := bson.NewObjectID()
	for range 2 {
		if err := h.s.markSold(ctx, id, time.Now(), true); err != nil {
			t.Fatalf("mark: %v", err)
		}
	}
}

// Items a previous version marked sold leave the items collection once the checkpoint has
// passed their sale; those sold later, and the items on sale, stay.
func TestSoldMarks_LegacySoldItemsCleared(t *testing.T) {
	h := newHeldMarks(t)
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

// BenchmarkListItemsWithMarkers is a listing of 100 items on sale while the markers of
// recent buys wait to be cleared: what the markers cost a listing. The
// "kept" cases are the same number of sold items kept in the items collection instead, as
// buys left them before markers (status sold, never deleted).
func BenchmarkListItemsWithMarkers(b *testing.B) {
	for _, c := range []struct {
		sold int
		kept bool
	}{{0, false}, {1000, false}, {3000, false}, {1000, true}, {3000, true}} {
		name := fmt.Sprintf("markers=%d", c.sold)
		if c.kept {
			name = fmt.Sprintf("kept=%d", c.sold)
		}
		b.Run(name, func(b *testing.B) {
			db := connect(b, testinfra.StartFerretDB(b)).Database("bench")
			s := New(db)
			ctx := context.Background()
			seller := Account{ID: "seller", Email: "seller@example.com"}
			for i := range 100 {
				if _, err := s.CreateItem(ctx, seller, fmt.Sprintf("item %d", i), 1); err != nil {
					b.Fatal(err)
				}
			}
			docs := make([]any, c.sold)
			for i := range docs {
				if c.kept {
					it := Item{Owner: "seller", OwnerID: "seller", OwnerEmail: "seller@example.com", Name: "sold", Price: 1,
						Status: StatusSold, EventID: newEventID(), CreatedAt: time.Now(), UpdatedAt: time.Now()}
					docs[i] = newItemDoc(&it)
				} else {
					docs[i] = newSoldMarker(bson.NewObjectID(), time.Now(), true)
				}
			}
			coll := db.Collection(CollSold)
			if c.kept {
				coll = db.Collection(CollItems)
			}
			if c.sold > 0 {
				if _, err := coll.InsertMany(ctx, docs); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				if items, err := s.ListItems(ctx, "", Page{Limit: 501}); err != nil || len(items) != 100 {
					b.Fatalf("listed %d, %v", len(items), err)
				}
			}
		})
	}
}
