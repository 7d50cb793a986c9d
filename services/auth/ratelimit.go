package auth

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

// Sign-in attempts are limited per key (an e-mail or a client IP) across every auth replica:
// at most `limit` attempts per key in each fixed window of `per`. An attempt takes a numbered
// slot of its key's window by inserting {_id: "<scope>:<key hash>:<window>:<slot>"}; the
// unique _id gives each slot to exactly one attempt, on MongoDB and on FerretDB alike (whose
// conditional updates are not atomic under concurrency, so no counter is incremented). When
// every slot is taken the attempt is refused until the window ends. (Fixed windows let a
// guesser spend two windows' attempts around a boundary: twice the limit in a short span,
// never more.) Each replica remembers
// the next slot to try and which keys are full, so a key costs at most limit+replicas inserts
// a window, however hard it is hammered. Keys are stored hashed: the collection holds no
// e-mail address or IP. Documents expire two windows after theirs (TTL index on MongoDB,
// PurgeLoop on FerretDB).

// fieldWindow is the window start of an attempt document, which its expiry counts from.
const fieldWindow = "window"

// signInWindow is the window of the limit: AUTH_SIGNIN_PER_MINUTE attempts per minute.
const signInWindow = time.Minute

// attemptsRetention is how long attempt documents are kept: two windows.
const attemptsRetention = 2 * signInWindow

// limiter is one scope's shared limit ("email" or "ip").
type limiter struct {
	coll  *mongo.Collection
	scope string
	limit int
	per   time.Duration
	now   func() time.Time

	mu     sync.Mutex
	window time.Time      // the window next holds hints for
	next   map[string]int // key hash -> next slot to try; > limit: full
}

func newLimiter(coll *mongo.Collection, scope string, limit int) *limiter {
	return &limiter{coll: coll, scope: scope, limit: limit, per: signInWindow, now: time.Now, next: map[string]int{}}
}

// allow takes one attempt for key. When none is left in the window it returns false and the
// time until the window ends.
func (l *limiter) allow(ctx context.Context, key string) (bool, time.Duration, error) {
	now := l.now()
	start := now.Truncate(l.per)
	sum := sha256.Sum256([]byte(key))
	id := hex.EncodeToString(sum[:16])
	for slot := l.hint(start, id); slot <= l.limit; slot++ {
		_, err := l.coll.InsertOne(ctx, bson.D{
			{Key: mongox.FieldID, Value: fmt.Sprintf("%s:%s:%d:%d", l.scope, id, start.Unix(), slot)},
			{Key: fieldWindow, Value: start},
		})
		if err == nil {
			l.remember(start, id, slot+1)
			return true, 0, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return false, 0, fmt.Errorf("take a sign-in attempt (%s): %w", l.scope, err)
		}
	}
	l.remember(start, id, l.limit+1)
	return false, start.Add(l.per).Sub(now), nil
}

// hint returns the first slot worth trying for id in the window starting at start.
func (l *limiter) hint(start time.Time, id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !start.Equal(l.window) {
		// A new window: the hints of the last one are worthless.
		l.window = start
		clear(l.next)
	}
	return max(l.next[id], 1)
}

// remember records that the slots of id before next are taken.
func (l *limiter) remember(start time.Time, id string, next int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if start.Equal(l.window) && next > l.next[id] {
		l.next[id] = next
	}
}
