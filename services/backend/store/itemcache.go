package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Items shown by GET /item/{id} are cached in memory for a short time. One find by _id is
// the whole database work of that route, and on FerretDB it is the route's limit: the same
// find sent straight from a client reaches about the rate the issue asks the route to beat
// (docs/performance-backend.md). Only a lookup shared between requests goes past it.
//
// What a reader can see:
//   - On the replica that wrote: every write that completed before the request came in, as
//     without the cache. Each item write forgets its entry after the write returns (even
//     when it failed: its outcome may be unknown), and a lookup that started before the
//     write does not store what it read (its stripe's generation moved).
//   - On another replica: the write once that replica hears of it (ForgetItem, called by the
//     change feed between replicas, usually milliseconds), and in any case once the entry
//     is ttl old. The feed suspends the cache while it cannot hear (Suspend), so a replica
//     cut off from the others serves from the database.
//
// An entry read past a point between half and three quarters of its life is renewed in the
// background, so an item that keeps being read never makes a reader wait for the database;
// the renewed entry starts a new age limit from the moment it was read. The point is drawn
// per entry: entries filled together (a cold start, a flush) would otherwise be renewed
// together, a burst of lookups every half life.
//
// Buys, updates and deletes always read the database: what they decide (the claim, the
// owner check, the order's price) never rests on a cached copy. A miss is not cached
// either: an item listed on another replica shows up at once.

// itemCacheStripes spreads the fill guards: a write forgets the lookups under way of its
// stripe only, not of every item.
const itemCacheStripes = 64

// itemCache is a bounded map of available items with an age limit.
type itemCache struct {
	ttl  time.Duration
	size int
	now  func() time.Time

	// suspended counts the reasons not to serve (Suspend); while above zero every lookup
	// goes to the database and nothing is stored.
	suspended atomic.Int32
	// refreshing holds a token per renewal under way (refreshItem).
	refreshing chan struct{}
	hits       atomic.Uint64
	misses     atomic.Uint64

	mu      sync.Mutex
	entries map[bson.ObjectID]cachedItem
	// gens counts the writes per stripe; all counts the flushes. A fill stores its result
	// only if neither moved while it read.
	gens [itemCacheStripes]uint64
	all  uint64
}

type cachedItem struct {
	item    Item
	expires time.Time
	renewAt time.Time // from then on a hit renews the entry
	// refreshing: a lookup to renew the entry is under way (refresh ahead, ShownItem).
	refreshing bool
}

// fillTicket is what a lookup remembers of the cache's state when it went to the database.
type fillTicket struct {
	gen, all uint64
	ok       bool // false: the cache is off or suspended, store nothing
}

func newItemCache(ttl time.Duration, size int, now func() time.Time) *itemCache {
	return &itemCache{ttl: ttl, size: size, now: now, entries: make(map[bson.ObjectID]cachedItem, size),
		refreshing: make(chan struct{}, refreshes)}
}

func stripe(id bson.ObjectID) int {
	// The last bytes of an ObjectID are a counter: they spread consecutive ids evenly.
	return int(id[11]) % itemCacheStripes
}

// get returns a fresh entry, or a ticket to fill one with what the database says. A hit
// on an entry past its renewal point comes with a ticket too, once: renewing it then, off the
// request's path, keeps an item that is being read from ever making a reader wait for the
// database (refresh ahead). It is still served only while younger than ttl.
func (c *itemCache) get(id bson.ObjectID) (Item, bool, fillTicket) {
	if c == nil {
		return Item{}, false, fillTicket{}
	}
	if c.suspended.Load() > 0 {
		c.misses.Add(1)
		return Item{}, false, fillTicket{}
	}
	c.mu.Lock()
	e, found := c.entries[id]
	if now := c.now(); found && now.Before(e.expires) {
		var renew fillTicket
		if !e.refreshing && !now.Before(e.renewAt) {
			e.refreshing = true
			c.entries[id] = e
			renew = fillTicket{gen: c.gens[stripe(id)], all: c.all, ok: true}
		}
		c.mu.Unlock()
		c.hits.Add(1)
		return e.item, true, renew
	}
	if found {
		delete(c.entries, id)
	}
	t := fillTicket{gen: c.gens[stripe(id)], all: c.all, ok: true}
	c.mu.Unlock()
	c.misses.Add(1)
	return Item{}, false, t
}

// fill stores what a lookup read, unless a write or a flush came in since its ticket.
func (c *itemCache) fill(t fillTicket, it Item) {
	if c == nil || !t.ok || c.suspended.Load() > 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens[stripe(it.ID)] != t.gen || c.all != t.all {
		return
	}
	if len(c.entries) >= c.size {
		c.evictLocked()
	}
	now := c.now()
	c.entries[it.ID] = cachedItem{item: it, expires: now.Add(c.ttl), renewAt: now.Add(c.ttl/2 + rand.N(c.ttl/4+1))}
}

// evictLocked makes room: the expired entries go, or else one in eight, picked by map
// order (random enough for a cache whose entries live a second or two).
func (c *itemCache) evictLocked() {
	now := c.now()
	for id, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, id)
		}
	}
	drop := len(c.entries) - c.size + 1 + c.size/8
	for id := range c.entries {
		if drop <= 0 {
			return
		}
		delete(c.entries, id)
		drop--
	}
}

// forget drops id's entry and turns away the lookups of its stripe under way.
func (c *itemCache) forget(id bson.ObjectID) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.gens[stripe(id)]++
	delete(c.entries, id)
	c.mu.Unlock()
}

// forgetAll empties the cache and turns away every lookup under way.
func (c *itemCache) forgetAll() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.all++
	clear(c.entries)
	c.mu.Unlock()
}

// itemWritten forgets id here and tells the other replicas.
func (s *Store) itemWritten(id bson.ObjectID) {
	s.cache.forget(id)
	if s.changes != nil {
		s.changes.ItemChanged(id)
	}
}

// itemsWritten forgets every item here and tells the other replicas to.
func (s *Store) itemsWritten() {
	s.cache.forgetAll()
	if s.changes != nil {
		s.changes.ItemsChanged()
	}
}

// refreshes bounds the entries renewed at once. A hit that finds them all busy leaves its
// entry for a later hit to renew: the entries filled together (a cold start, a flush)
// reach half their age together, and dropping all but four of their renewals let the rest
// expire at once, sending each of their readers to the database in the same millisecond:
// the p99 of GET /item/{id} in an open loop was those bursts (docs/performance-backend.md).
const refreshes = 4

// refreshItem renews id's entry in the background (refresh ahead, itemCache.get). An item
// no longer shown is forgotten; on any other error the entry keeps its age limit and a later
// hit tries again.
func (s *Store) refreshItem(id bson.ObjectID, t fillTicket) {
	select {
	case s.cache.refreshing <- struct{}{}:
	default:
		s.cache.renewLater(id)
		return
	}
	go func() {
		defer func() { <-s.cache.refreshing }()
		ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
		defer cancel()
		it, err := s.GetItem(ctx, id)
		switch {
		case err == nil:
			s.cache.fill(t, it)
		case errors.Is(err, ErrNotFound):
			s.cache.forget(id)
		default:
			s.cache.renewLater(id)
		}
	}()
}

// renewLater lets the next hit on id's entry renew it: this renewal did not happen.
func (c *itemCache) renewLater(id bson.ObjectID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok && e.refreshing {
		e.refreshing = false
		c.entries[id] = e
	}
}

// refreshTimeout bounds a background renewal: it has no request to answer.
const refreshTimeout = 5 * time.Second

// ForgetItem drops id's cached copy: another replica wrote the item.
func (s *Store) ForgetItem(id bson.ObjectID) { s.cache.forget(id) }

// ForgetItems drops every cached item.
func (s *Store) ForgetItems() { s.cache.forgetAll() }

// SuspendItemCache stops the item cache from serving and storing until the returned resume
// is called, which first forgets everything cached before: the writes of other replicas in
// between went unheard. Suspensions nest; resume is idempotent.
func (s *Store) SuspendItemCache() (resume func()) {
	if s.cache == nil {
		return func() {}
	}
	s.cache.suspended.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			s.cache.forgetAll()
			s.cache.suspended.Add(-1)
		})
	}
}

// ItemCacheStats are the item cache's lookups since the start.
type ItemCacheStats struct {
	Hits, Misses uint64
}

// ItemCacheStats reports the item cache's lookups; zero without a cache.
func (s *Store) ItemCacheStats() ItemCacheStats {
	if s.cache == nil {
		return ItemCacheStats{}
	}
	return ItemCacheStats{Hits: s.cache.hits.Load(), Misses: s.cache.misses.Load()}
}
