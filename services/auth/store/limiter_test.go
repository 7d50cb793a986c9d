package store

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/internal/testinfra"
)

// limitWindow is a fixed moment ten seconds into a minute: the limits count per window of
// the wall clock, so a test that ran across a window's end would see its budget renewed.
var limitWindow = time.Date(2026, 11, 27, 12, 0, 10, 0, time.UTC)

// limiterStore is a Store on a fresh FerretDB, the MongoDB wire protocol the limits rely on
// (a slot is taken by a unique insert).
func limiterStore(t *testing.T) *Store {
	t.Helper()
	client, err := mongox.Connect(t.Context(), mongox.Config{URI: testinfra.StartFerretDB(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return New(client.Database(contract.DatabaseAuth))
}

// Two replicas share the limit: of many concurrent takes of one key, across both, exactly
// `limit` pass; a full key costs no more inserts; the next window starts afresh.
func TestLimiter_SharedAcrossReplicas(t *testing.T) {
	st := limiterStore(t)
	now := limitWindow
	replicas := []*Limiter{st.Limiter("test", 5, time.Minute), st.Limiter("test", 5, time.Minute)}
	for _, l := range replicas {
		l.Now = func() time.Time { return now }
	}
	var (
		wg      sync.WaitGroup
		allowed atomic.Int32
		waits   = make(chan time.Duration, 40)
	)
	for i := range 40 {
		wg.Go(func() {
			_, ok, wait, err := replicas[i%2].Take(t.Context(), "ann@shop.example")
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				allowed.Add(1)
			} else {
				waits <- wait
			}
		})
	}
	wg.Wait()
	close(waits)
	if n := allowed.Load(); n != 5 {
		t.Fatalf("%d takes passed across two replicas, want the limit of 5", n)
	}
	for w := range waits {
		if w != 50*time.Second {
			t.Fatalf("Retry-After %v, want the 50 s left of the window", w)
		}
	}
	if _, ok, _, _ := replicas[0].Take(t.Context(), "bob@shop.example"); !ok {
		t.Fatal("another key was refused")
	}
	n, err := st.slots.CountDocuments(t.Context(), bson.D{})
	if err != nil || n != 6 {
		t.Fatalf("%d slot documents (%v), want 6: refusals write nothing", n, err)
	}
	now = now.Add(time.Minute)
	if _, ok, _, _ := replicas[1].Take(t.Context(), "ann@shop.example"); !ok {
		t.Fatal("refused in the next window")
	}
}

// A slot given back can be taken again, by the replica that gave it back at once and by
// another once its memory of "full" is older than fullRecheck.
func TestLimiter_RefundFreesASlotForEveryReplica(t *testing.T) {
	st := limiterStore(t)
	now := limitWindow
	a, b := st.Limiter("test", 3, time.Minute), st.Limiter("test", 3, time.Minute)
	a.Now = func() time.Time { return now }
	b.Now = func() time.Time { return now }
	var tickets []Ticket
	for range 3 {
		tk, ok, _, err := a.Take(t.Context(), "k")
		if err != nil || !ok {
			t.Fatalf("take: %v %v", ok, err)
		}
		tickets = append(tickets, tk)
	}
	if _, ok, _, _ := b.Take(t.Context(), "k"); ok {
		t.Fatal("b took a fourth slot")
	}
	if err := tickets[0].Refund(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, ok, _, _ := b.Take(t.Context(), "k"); ok {
		t.Fatal("b looked again before fullRecheck: it should answer from memory")
	}
	now = now.Add(fullRecheck)
	if _, ok, _, err := b.Take(t.Context(), "k"); !ok || err != nil {
		t.Fatalf("b did not find the slot given back: %v %v", ok, err)
	}
	if err := tickets[1].Refund(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, ok, _, err := a.Take(t.Context(), "k"); !ok || err != nil {
		t.Fatalf("a did not retake its own slot at once: %v %v", ok, err)
	}
}
