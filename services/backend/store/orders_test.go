package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/services/backend/store"
)

func TestBuy_ConcurrentBuyersExactlyOneWins(t *testing.T) {
	s, db := newStore(t)
	ctx := testCtx(t)
	it, err := s.CreateItem(ctx, acct("seller@example.com"), "lamp", 12.5)
	if err != nil {
		t.Fatal(err)
	}

	const buyers = 60
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []string
		others  = map[error]int{}
	)
	start := make(chan struct{})
	for i := range buyers {
		wg.Go(func() {
			<-start
			buyer := fmt.Sprintf("buyer%d@example.com", i)
			_, err := s.Buy(ctx, it.ID, acct(buyer))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners = append(winners, buyer)
			case errors.Is(err, store.ErrSold), errors.Is(err, store.ErrNotFound):
				others[store.ErrSold]++
			default:
				t.Errorf("buy: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("winners = %v, want exactly one", winners)
	}
	if n := others[store.ErrSold]; n != buyers-1 {
		t.Errorf("losers = %d, want %d", n, buyers-1)
	}

	// The winner holds the only order; the item left the shop; one buy event waits.
	if n, _ := db.Collection(store.CollOrders).CountDocuments(ctx, bson.D{}); n != 1 {
		t.Errorf("orders = %d, want 1", n)
	}
	orders, err := s.ListOrders(ctx, acct(winners[0]), store.Page{Limit: 10})
	if err != nil || len(orders) != 1 || orders[0].ItemID != it.ID {
		t.Errorf("winner's orders = %v, %v", orders, err)
	}
	if _, err := s.GetItem(ctx, it.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetItem of sold item: err = %v, want ErrNotFound", err)
	}
	// Losers wrote nothing: only the add and the winner's buy wait.
	rec, err := s.PendingEvents(ctx, time.Now().Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	evs := rec.Events
	var buys int
	for _, e := range evs {
		if e.Source == store.CollOrders {
			buys++
		}
	}
	if buys != 1 || len(evs) != 2 {
		t.Errorf("pending events = %d, buys %d; want 2 and 1", len(evs), buys)
	}
}

func TestBuy_Refusals(t *testing.T) {
	s, _ := newStore(t)
	ctx := testCtx(t)
	it, err := s.CreateItem(ctx, acct("seller@example.com"), "lamp", 3)
	if err != nil {
		t.Fatal(err)
	}
	gone, err := s.CreateItem(ctx, acct("seller@example.com"), "chair", 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteItem(ctx, gone.ID, acct("seller@example.com")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Buy(ctx, it.ID, acct("seller@example.com")); !errors.Is(err, store.ErrOwnItem) {
		t.Errorf("own item: %v", err)
	}
	if _, err := s.Buy(ctx, bson.NewObjectID(), acct("b@example.com")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown item: %v", err)
	}
	if _, err := s.Buy(ctx, gone.ID, acct("b@example.com")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted item: %v", err)
	}
	if _, err := s.Buy(ctx, it.ID, acct("b@example.com")); err != nil {
		t.Fatalf("buy: %v", err)
	}
	if _, err := s.Buy(ctx, it.ID, acct("c@example.com")); !errors.Is(err, store.ErrSold) {
		t.Errorf("sold item: %v", err)
	}
}

// Concurrent buys share insert commands (group commit): of three buyers of each of 20
// items, all at once, exactly one per item wins, each winner's order is keyed by its item,
// and every item is sold.
func TestBuy_ConcurrentBuysOfManyItemsOneWinnerEach(t *testing.T) {
	s, db := newStore(t, store.WithWriteConcurrency(1))
	ctx := testCtx(t)
	const items, buyersPerItem = 20, 3
	ids := make([]bson.ObjectID, items)
	for i := range ids {
		it, err := s.CreateItem(ctx, acct("seller@example.com"), fmt.Sprintf("lamp %d", i), 3)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = it.ID
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners = map[bson.ObjectID][]string{}
	)
	start := make(chan struct{})
	for i, id := range ids {
		for b := range buyersPerItem {
			wg.Go(func() {
				<-start
				buyer := fmt.Sprintf("buyer%d-%d@example.com", i, b)
				o, err := s.Buy(ctx, id, acct(buyer))
				switch {
				case err == nil:
					if o.ItemID != id {
						t.Errorf("order for %s has id %s", id.Hex(), o.ItemID.Hex())
					}
					mu.Lock()
					winners[id] = append(winners[id], buyer)
					mu.Unlock()
				case errors.Is(err, store.ErrSold):
				default:
					t.Errorf("buy: %v", err)
				}
			})
		}
	}
	close(start)
	wg.Wait()
	for _, id := range ids {
		if len(winners[id]) != 1 {
			t.Errorf("item %s: winners %v, want exactly one", id.Hex(), winners[id])
		}
		if _, err := s.GetItem(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("item %s after the buys: %v, want not found (sold)", id.Hex(), err)
		}
	}
	if n, err := db.Collection(store.CollOrders).CountDocuments(ctx, bson.D{}); err != nil || n != items {
		t.Errorf("orders = %d (%v), want %d", n, err, items)
	}
}
