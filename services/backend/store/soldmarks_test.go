package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// heldMarks is a store on a fresh FerretDB whose first sold-mark command waits until
// release is closed, so that tests can line buys up behind it.
type heldMarks struct {
	*heldCommands
	s     *Store
	items *mongo.Collection
	heard *heardChanges
}

func newHeldMarks(t *testing.T) *heldMarks {
	t.Helper()
	db := connect(t, testinfra.StartFerretDB(t)).Database("marks")
	h := &heldMarks{heldCommands: newHeldCommands(), heard: &heardChanges{ids: map[bson.ObjectID]int{}}}
	h.s = New(db, WithWriteConcurrency(1), WithItemCache(time.Hour, 100), WithItemChanges(h.heard))
	h.items = db.Collection(CollItems)
	send := h.s.soldMarks.send
	h.s.soldMarks.send = func(ctx context.Context, marks []soldMark) []outcome[struct{}] {
		h.sent(len(marks))
		return send(ctx, marks)
	}
	return h
}

func (h *heldMarks) status(t *testing.T, id bson.ObjectID) string {
	t.Helper()
	var doc struct {
		Status string `bson:"status"`
	}
	if err := h.items.FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&doc); err != nil {
		t.Fatalf("find %s: %v", id.Hex(), err)
	}
	return doc.Status
}

// Buys that reach their mark while one is being sent share the next update command, and
// each item ends up sold to its own buyer, forgotten by the cache and announced.
func TestSoldMarks_WaitingBuysShareOneUpdateCommand(t *testing.T) {
	h := newHeldMarks(t)
	ctx := context.Background()
	seller := Account{ID: "seller", Email: "seller@example.com"}
	const buys = 20
	items := make([]Item, buys)
	for i := range items {
		it, err := h.s.CreateItem(ctx, seller, fmt.Sprintf("item %d", i), float64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.s.ShownItem(ctx, it.ID); err != nil { // cached
			t.Fatal(err)
		}
		items[i] = it
	}
	errs := make(chan error, buys)
	buy := func(i int) {
		_, err := h.s.Buy(ctx, items[i].ID, Account{ID: fmt.Sprintf("buyer%d", i), Email: fmt.Sprintf("b%d@example.com", i)})
		errs <- err
	}
	go buy(0)
	waitUntil(t, "the first mark is sent", func() bool { return len(h.commandSizes()) == 1 })
	for i := 1; i < buys; i++ {
		go buy(i)
	}
	waitUntil(t, "the other buys wait for their marks", func() bool { return h.s.soldMarks.queued() == buys-1 })
	close(h.release)
	for range buys {
		if err := <-errs; err != nil {
			t.Fatalf("buy: %v", err)
		}
	}
	if got := h.commandSizes(); len(got) != 2 || got[0] != 1 || got[1] != buys-1 {
		t.Fatalf("marks per command = %v, want [1 %d]", got, buys-1)
	}
	for i, it := range items {
		if status := h.status(t, it.ID); status != StatusSold {
			t.Errorf("item %d: status %q, want sold", i, status)
		}
		var o Order
		if err := h.s.orders.FindOne(ctx, bson.D{{Key: "_id", Value: it.ID}}).Decode(&o); err != nil || o.BuyerID != fmt.Sprintf("buyer%d", i) {
			t.Errorf("item %d: order %+v, %v; want it bought by buyer%d", i, o, err, i)
		}
		if _, err := h.s.ShownItem(ctx, it.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("item %d is still shown from the cache after its buy: %v", i, err)
		}
		if n := h.heard.count(it.ID); n == 0 {
			t.Errorf("item %d: its mark was not announced to the other replicas", i)
		}
	}
}

// A statement the server refuses fails every mark of its command: FerretDB v1 stops at the
// first failing statement and reports it as the first, so no mark of that command may be
// told it was written. A mark in another command is not touched.
func TestSoldMarks_RefusedMarkFailsItsWholeCommand(t *testing.T) {
	h := newHeldMarks(t)
	ctx := context.Background()
	seller := Account{ID: "seller", Email: "seller@example.com"}
	var ids []bson.ObjectID
	for i := range 4 {
		it, err := h.s.CreateItem(ctx, seller, fmt.Sprintf("item %d", i), 1)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, it.ID)
	}
	sold := bson.D{{Key: fieldStatus, Value: StatusSold}}
	first := make(chan error, 1)
	go func() { first <- h.s.markSold(ctx, ids[0], sold) }()
	waitUntil(t, "the first mark is sent", func() bool { return len(h.commandSizes()) == 1 })
	errs := make(chan error, 3)
	for i := 1; i < 4; i++ {
		set := sold
		if i == 2 {
			// _id is immutable: the server refuses this statement.
			set = bson.D{{Key: fieldStatus, Value: StatusSold}, {Key: "_id", Value: bson.NewObjectID()}}
		}
		go func() { errs <- h.s.markSold(ctx, ids[i], set) }()
	}
	waitUntil(t, "the three marks wait", func() bool { return h.s.soldMarks.queued() == 3 })
	close(h.release)
	if err := <-first; err != nil {
		t.Fatalf("first mark, in a command of its own: %v", err)
	}
	for range 3 {
		if err := <-errs; err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Errorf("a mark in the refused command: err %v, want the command's error", err)
		}
	}
	if status := h.status(t, ids[2]); status != StatusAvailable {
		t.Errorf("the refused mark's item is %q, want it unchanged", status)
	}
	if got := h.commandSizes(); len(got) != 2 || got[1] != 3 {
		t.Fatalf("marks per command = %v, want the three waiting marks in one command", got)
	}
}
