package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// A lookup that read the database before a write finished must not store what it read.
func TestItemCache_LookupOverlappingAWriteStoresNothing(t *testing.T) {
	now := time.Now()
	c := newItemCache(time.Hour, 10, func() time.Time { return now })
	id := bson.NewObjectID()

	_, hit, ticket := c.get(id)
	if hit || !ticket.ok {
		t.Fatalf("first lookup: hit %v, ticket %+v; want a miss with a ticket", hit, ticket)
	}
	c.forget(id) // the write returned while the lookup was reading
	c.fill(ticket, Item{ID: id, Name: "old"})
	if _, hit, _ := c.get(id); hit {
		t.Fatal("a lookup that overlapped a write stored its read")
	}

	_, _, ticket = c.get(id)
	c.forgetAll()
	c.fill(ticket, Item{ID: id, Name: "old"})
	if _, hit, _ := c.get(id); hit {
		t.Fatal("a lookup that overlapped a flush stored its read")
	}

	_, _, ticket = c.get(id)
	c.fill(ticket, Item{ID: id, Name: "new"})
	if it, hit, _ := c.get(id); !hit || it.Name != "new" {
		t.Fatalf("an undisturbed lookup: hit %v, %+v; want the stored item", hit, it)
	}
}

func TestItemCache_StaysWithinItsSize(t *testing.T) {
	now := time.Now()
	c := newItemCache(time.Hour, 64, func() time.Time { return now })
	for range 1000 {
		id := bson.NewObjectID()
		_, _, ticket := c.get(id)
		c.fill(ticket, Item{ID: id})
		if n := len(c.entries); n > 64 {
			t.Fatalf("%d entries, size is 64", n)
		}
	}
	if n := len(c.entries); n < 64-64/8-1 {
		t.Fatalf("%d entries after 1000 fills: eviction dropped more than it needed to", n)
	}
}

// Entries filled together reach their renewal points close together. Those whose renewal
// found every renewal slot busy are renewed by a later hit, so none of them expires under
// its readers.
func TestItemCache_RenewalTurnedAwayIsTriedAgain(t *testing.T) {
	h := newHeldRemovals(t)
	close(h.release)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	const ttl = time.Minute
	h.s.cache = newItemCache(ttl, 100, clock)
	ctx := context.Background()
	items := h.items(t, 3*refreshes)
	for _, it := range items {
		if _, err := h.s.ShownItem(ctx, it.ID); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	now = now.Add(ttl * 8 / 10) // past every renewal point
	mu.Unlock()
	// Every slot busy: each hit's renewal is turned away.
	for range refreshes {
		h.s.cache.refreshing <- struct{}{}
	}
	for _, it := range items {
		if _, err := h.s.ShownItem(ctx, it.ID); err != nil {
			t.Fatal(err)
		}
	}
	for range refreshes {
		<-h.s.cache.refreshing
	}
	renewed := func(id bson.ObjectID) bool {
		h.s.cache.mu.Lock()
		defer h.s.cache.mu.Unlock()
		return h.s.cache.entries[id].expires.After(clock().Add(ttl / 2))
	}
	waitUntil(t, "later hits renew every entry", func() bool {
		all := true
		for _, it := range items {
			if !renewed(it.ID) {
				all = false
				if _, err := h.s.ShownItem(ctx, it.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		return all
	})
}

// Entries filled at one instant get renewal points spread over the second quarter of their
// life, so that their renewals do not all come at once.
func TestItemCache_RenewalPointsSpread(t *testing.T) {
	now := time.Now()
	const ttl = time.Second
	c := newItemCache(ttl, 1000, func() time.Time { return now })
	points := map[time.Time]bool{}
	for range 200 {
		id := bson.NewObjectID()
		_, _, ticket := c.get(id)
		c.fill(ticket, Item{ID: id})
		at := c.entries[id].renewAt
		if at.Before(now.Add(ttl/2)) || at.After(now.Add(ttl*3/4)) {
			t.Fatalf("renewal point %v after the fill, want within [ttl/2, 3ttl/4]", at.Sub(now))
		}
		points[at] = true
	}
	if len(points) < 150 {
		t.Fatalf("200 entries filled at once share %d renewal points, want them spread", len(points))
	}
}
