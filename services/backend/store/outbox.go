package store

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/internal/contract"
)

// The outbox without transactions.
//
// FerretDB has no multi-document transactions, so the event and the domain write cannot be
// committed together. The order of the two writes decides what a crash between them costs:
//
//  1. The event is inserted into the outbox first, as a pending entry under a fresh event id.
//  2. The domain document (item or order) is written carrying the same event id.
//
// The relay publishes an entry only after it has found a domain document with that event id
// (Events below). A crash after step 1 leaves an entry whose domain write never happened: it is
// never published, and is deleted once it is older than OrphanAfter, far longer than any
// request may take. A crash after step 2 loses nothing: the entry is already there. So an event
// is neither lost nor invented, at the price of one extra read per batch in the relay.
// A failed domain write deletes its entry at once (best effort; the relay would anyway).

// OrphanAfter is how long a pending entry may wait for its domain write before the relay
// deletes it. Requests time out long before this.
const OrphanAfter = 2 * time.Minute

// timeFormat is how events carry timestamps.
const timeFormat = time.RFC3339Nano

// Event is an outbox entry: a message waiting to be published.
type Event struct {
	ID         string        `bson:"_id"`
	RoutingKey string        `bson:"routing_key"`
	Body       []byte        `bson:"body"`
	Source     string        `bson:"source"`    // collection of the domain write
	SourceID   bson.ObjectID `bson:"source_id"` // _id of the domain document
	CreatedAt  time.Time     `bson:"created_at"`
}

// newEventID returns a random id, unique per event, that the notifier deduplicates on.
func newEventID() string { return rand.Text() }

// queue inserts the pending outbox entry for an event about the document id in source.
func (s *Store) queue(ctx context.Context, key, source string, id bson.ObjectID, ev contract.ItemEvent) (Event, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return Event{}, fmt.Errorf("encode event: %w", err)
	}
	e := Event{
		ID: ev.EventID, RoutingKey: key, Body: body,
		Source: source, SourceID: id, CreatedAt: s.now().UTC(),
	}
	if _, err := s.outbox.InsertOne(ctx, e); err != nil {
		return Event{}, fmt.Errorf("queue event %s: %w", key, err)
	}
	return e, nil
}

// unqueue deletes the entry of a domain write that failed. It must not depend on the
// request's context, which may be what failed.
func (s *Store) unqueue(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.outbox.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		// Harmless: the relay deletes the orphan after OrphanAfter.
		slog.WarnContext(ctx, "delete orphan outbox entry", "event_id", id, "err", err)
	}
}
