package store

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/mongox"
)

// The outbox without transactions.
//
// FerretDB has no multi-document transactions, so the event and the domain write cannot be
// committed together. The order of the two writes decides what a crash between them costs:
//
//  1. The event is inserted into the outbox first, as a pending entry under a fresh event id.
//  2. The domain document (item or order) is written carrying the same event id.
//
// The relay publishes an entry only once its domain write is known to have succeeded:
//   - Entries this process wrote are settled in memory (local below): the request marks its
//     event committed after the domain write succeeded, so the relay needs no read to know.
//   - Any other entry (another replica's, or left by a process that died) waits ForeignAfter,
//     then the relay looks for a domain document carrying the event id (one read by _id): found
//     means publish, not found and older than OrphanAfter means the write never happened, and
//     the entry is deleted. Waiting also keeps two replicas from publishing the same entry.
//
// A crash after step 1 thus publishes nothing; a crash after step 2 loses nothing, since the
// entry is already there. A domain write the server refused deletes its entry at once (best
// effort; the relay would anyway); one whose outcome is unknown leaves it to the relay's check.

// OrphanAfter is how long a pending entry may wait for its domain write before the relay
// deletes it. Requests time out long before this.
const OrphanAfter = 2 * time.Minute

// ForeignAfter is how long the relay leaves an entry that this process did not write (or no
// longer remembers) to the replica that wrote it, before checking its domain write itself.
const ForeignAfter = 10 * time.Second

// timeFormat is how events carry timestamps.
const timeFormat = time.RFC3339Nano

// Event is an outbox entry: a message waiting to be published.
type Event struct {
	ID         string        `bson:"_id"`
	RoutingKey string        `bson:"routing_key"`
	Body       []byte        `bson:"body"`
	Writer     string        `bson:"writer"`    // Store.instance of the process that queued it
	Source     string        `bson:"source"`    // collection of the domain write
	SourceID   bson.ObjectID `bson:"source_id"` // _id of the domain document
	CreatedAt  time.Time     `bson:"created_at"`
}

// newEventID returns a random id, unique per event, that the notifier deduplicates on.
func newEventID() string { return rand.Text() }

// queue inserts the pending outbox entry for an event about the document id in source.
func (s *Store) queue(ctx context.Context, key, source string, id bson.ObjectID, ev contract.ItemEvent) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	e := Event{
		ID: ev.EventID, RoutingKey: key, Body: body, Writer: s.instance,
		Source: source, SourceID: id, CreatedAt: s.now().UTC(),
	}
	s.local.begin(e.ID)
	if _, err := write(ctx, s, func() (*mongo.InsertOneResult, error) { return s.outbox.InsertOne(ctx, e) }); err != nil {
		s.local.forget(e.ID)
		return fmt.Errorf("queue event %s: %w", key, err)
	}
	return nil
}

// abandon handles the entry of a domain write that returned err. When the server refused
// the write, it did not happen: the entry is deleted. When the outcome is unknown (a timeout,
// a broken connection: the server may still have written), the entry is left to the relay's
// check of the domain document, which publishes it if the write did happen.
func (s *Store) abandon(id string, err error) {
	var we mongo.WriteException
	if errors.As(err, &we) || mongo.IsDuplicateKeyError(err) {
		s.unqueue(id)
		return
	}
	s.local.forget(id)
}

// unqueue deletes the entry of a domain write that failed. It must not depend on the
// request's context, which may be what failed.
func (s *Store) unqueue(id string) {
	s.local.forget(id)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := write(ctx, s, func() (*mongo.DeleteResult, error) {
		return s.outbox.DeleteOne(ctx, bson.D{{Key: mongox.FieldID, Value: id}})
	}); err != nil {
		// Harmless: the relay deletes the orphan after OrphanAfter.
		slog.WarnContext(ctx, "delete orphan outbox entry", "event_id", id, "err", err)
	}
}

// local tracks the outbox entries this process queued: in flight until their domain write
// returns, then committed until published. An entry it does not know is checked in the
// database instead.
type local struct {
	mu        sync.Mutex
	committed map[string]bool // event id -> domain write succeeded
}

func newLocal() *local { return &local{committed: map[string]bool{}} }

func (l *local) begin(id string) { l.set(id, false) }

// commit records that the domain write of the event succeeded: the relay may publish it.
func (l *local) commit(id string) { l.set(id, true) }

func (l *local) set(id string, v bool) {
	l.mu.Lock()
	l.committed[id] = v
	l.mu.Unlock()
}

func (l *local) forget(ids ...string) {
	l.mu.Lock()
	for _, id := range ids {
		delete(l.committed, id)
	}
	l.mu.Unlock()
}

// state says whether the event is known here, and if so whether it is committed.
func (l *local) state(id string) (known, committed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	committed, known = l.committed[id]
	return known, committed
}
