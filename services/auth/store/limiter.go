package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"littleecom.io/littleecom/services/internal/mongox"
)

// Auth's abuse limits count per key (a client, an account on one client, or the whole shop)
// across every auth replica: at most `limit` counts per key in each fixed window of `per`.
// A count takes a numbered slot of its key's window by inserting
// {_id: "<scope>:<key hash>:<window>:<slot>"}; the unique _id gives each slot to exactly
// one request, on MongoDB and on FerretDB alike (whose conditional updates are not atomic
// under concurrency, so no counter is incremented). When every slot is taken the request is
// refused until the window ends. (Fixed windows let a client spend two windows' budget
// around a boundary: twice the limit in a short span, never more.)
//
// A slot is taken before the work it limits (the bcrypt comparison of a sign-in), so that a
// thousand concurrent guesses get no more comparisons than the limit; a sign-in that turns
// out right gives its slot back (refund), so only failures stay counted.
//
// Each replica remembers the next slot to try and which keys are full, so a hammered key
// costs at most a pass over its slots a second. Keys are stored hashed: the collection holds
// no e-mail address or IP. Documents expire two windows after theirs (TTL index on MongoDB,
// the service's PurgeLoop on FerretDB).
//
// Hand-written on purpose: the rate-limit libraries count in process memory
// (golang.org/x/time/rate) or in Redis (ulule/limiter, go-redis/redis_rate). None shares its
// counts through MongoDB, which is the one store every auth replica has, and a counter kept
// there with $inc would lose counts on FerretDB; slots claimed by unique inserts are what
// both databases make atomic.

// fieldExpires is when a slot document may be deleted.
const fieldExpires = "expires_at"

// fullRecheck is how long a replica answers "full" for a key from memory before it looks
// again for slots that were given back (by itself or by another replica).
const fullRecheck = time.Second

// Limiter is one scope's shared limit. Now is its clock (time.Now; a test pins it).
type Limiter struct {
	coll  *mongo.Collection
	scope string
	limit int
	per   time.Duration
	Now   func() time.Time

	mu       sync.Mutex
	window   time.Time            // the window the hints below are for
	next     map[string]int       // key hash -> lowest slot worth trying
	fullTill map[string]time.Time // key hash -> until when "full" is answered from memory
}

// Limiter returns the limit of scope: at most limit counts per key in each window of per,
// shared by every replica through the slots collection.
func (s *Store) Limiter(scope string, limit int, per time.Duration) *Limiter {
	return &Limiter{coll: s.slots, scope: scope, limit: limit, per: per, Now: time.Now,
		next: map[string]int{}, fullTill: map[string]time.Time{}}
}

// Ticket is a slot taken by Take; Refund gives it back.
type Ticket struct {
	l     *Limiter
	doc   string // the slot document's _id
	key   string // key hash
	start time.Time
	slot  int
}

// Take counts one request for key. When the window's slots are all taken it returns false
// and the time until the window ends.
func (l *Limiter) Take(ctx context.Context, key string) (Ticket, bool, time.Duration, error) {
	now := l.Now()
	start := now.Truncate(l.per)
	sum := sha256.Sum256([]byte(key))
	id := hex.EncodeToString(sum[:16])
	wait := start.Add(l.per).Sub(now)
	from, full := l.hint(start, id, now)
	if full {
		return Ticket{}, false, wait, nil
	}
	for {
		for slot := from; slot <= l.limit; slot++ {
			doc := fmt.Sprintf("%s:%s:%d:%d", l.scope, id, start.Unix(), slot)
			_, err := l.coll.InsertOne(ctx, bson.D{
				{Key: mongox.FieldID, Value: doc},
				{Key: fieldExpires, Value: start.Add(2 * l.per)},
			})
			if err == nil {
				l.remember(start, id, slot+1)
				return Ticket{l: l, doc: doc, key: id, start: start, slot: slot}, true, 0, nil
			}
			if !mongo.IsDuplicateKeyError(err) {
				return Ticket{}, false, 0, fmt.Errorf("take a %s slot: %w", l.scope, err)
			}
		}
		if from == 1 {
			break
		}
		from = 1 // slots below the hint may have been given back
	}
	l.markFull(start, id, now.Add(fullRecheck))
	return Ticket{}, false, wait, nil
}

// Refund gives the slot back, so that the request it counted does not count. A zero ticket
// is a no-op.
func (t Ticket) Refund(ctx context.Context) error {
	if t.l == nil {
		return nil
	}
	if _, err := t.l.coll.DeleteOne(ctx, bson.D{{Key: mongox.FieldID, Value: t.doc}}); err != nil {
		return fmt.Errorf("give back a %s slot: %w", t.l.scope, err)
	}
	t.l.mu.Lock()
	defer t.l.mu.Unlock()
	if t.start.Equal(t.l.window) {
		t.l.next[t.key] = min(max(t.l.next[t.key], 1), t.slot)
		delete(t.l.fullTill, t.key)
	}
	return nil
}

// hint returns the first slot worth trying for id in the window starting at start, and
// whether the key is known to be full.
func (l *Limiter) hint(start time.Time, id string, now time.Time) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !start.Equal(l.window) {
		// A new window: the hints of the last one are worthless.
		l.window = start
		clear(l.next)
		clear(l.fullTill)
	}
	if till, ok := l.fullTill[id]; ok && now.Before(till) {
		return 0, true
	}
	return max(l.next[id], 1), false
}

// remember records that the slots of id before next are taken.
func (l *Limiter) remember(start time.Time, id string, next int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if start.Equal(l.window) && next > l.next[id] {
		l.next[id] = next
	}
}

func (l *Limiter) markFull(start time.Time, id string, till time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if start.Equal(l.window) {
		l.next[id] = l.limit + 1
		l.fullTill[id] = till
	}
}
