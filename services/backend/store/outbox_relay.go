package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/services/internal/mongox"
)

// Events returns up to limit outbox entries, oldest first, whose domain write is known to
// have succeeded: the ones the relay may publish (see outbox.go). On the way it deletes
// orphans (entries whose domain write never happened, older than OrphanAfter) and finishes
// buys whose item was not yet marked sold because the process died between the claim and the
// mark.
func (s *Store) Events(ctx context.Context, limit int) ([]Event, error) {
	cur, err := s.outbox.Find(ctx, bson.D{},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	pending, err := decodeAll[Event](ctx, cur)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	if len(pending) == 0 {
		return nil, nil
	}

	var ready, orphans []Event
	now := s.now()
	for _, e := range pending {
		known, committed := s.local.state(e.ID)
		switch {
		case committed:
			ready = append(ready, e)
			continue
		case known:
			continue // its request is still writing
		case e.Writer != s.instance && now.Sub(e.CreatedAt) < ForeignAfter:
			continue // its writer will publish it
		}
		ok, err := s.domainWritten(ctx, e)
		if err != nil {
			return nil, err
		}
		switch {
		case ok:
			ready = append(ready, e)
		case now.Sub(e.CreatedAt) > OrphanAfter:
			orphans = append(orphans, e)
		}
		// Otherwise the domain write may still be under way: look again next time.
	}
	if err := s.Published(ctx, orphans); err != nil {
		return nil, fmt.Errorf("delete orphans: %w", err)
	}
	return ready, nil
}

// domainWritten reports whether the document the event is about exists with the event's id.
// One lookup by _id per event: FerretDB answers those from its index and scans the whole
// collection for anything else, $in included. For a buy it also makes sure the item is
// marked sold, finishing a buy whose process died between the claim and the mark.
func (s *Store) domainWritten(ctx context.Context, e Event) (bool, error) {
	coll := s.items
	if e.Source == CollOrders {
		coll = s.orders
	}
	var doc struct {
		EventID string `bson:"event_id"`
	}
	err := decodeOne(coll.FindOne(ctx, bson.D{{Key: mongox.FieldID, Value: e.SourceID}},
		options.FindOne().SetProjection(bson.D{{Key: "event_id", Value: 1}})), &doc)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check %s %s for event %s: %w", e.Source, e.SourceID.Hex(), e.ID, err)
	}
	if doc.EventID != e.ID {
		return false, nil // another buyer's order: this entry's claim lost
	}
	if e.Source == CollOrders {
		if err := s.ensureSold(ctx, e.SourceID); err != nil {
			return false, err
		}
	}
	return true, nil
}

// ensureSold marks a bought item sold if it is not yet. Normally Buy did it already and this
// is one read.
func (s *Store) ensureSold(ctx context.Context, id bson.ObjectID) error {
	it, err := s.findItem(ctx, id)
	if err != nil || it.Status == StatusSold {
		return err
	}
	_, err = s.setByID(ctx, s.items, id,
		bson.D{{Key: fieldStatus, Value: StatusSold}, {Key: fieldUpdatedAt, Value: s.now().UTC()}})
	if err != nil {
		return fmt.Errorf("mark bought item %s sold: %w", id.Hex(), err)
	}
	return nil
}

// Published removes entries from the outbox once the broker has confirmed them.
func (s *Store) Published(ctx context.Context, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	ids := make(bson.A, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	if _, err := write(ctx, s, func() (*mongo.DeleteResult, error) {
		return s.outbox.DeleteMany(ctx, bson.D{{Key: mongox.FieldID, Value: bson.D{{Key: "$in", Value: ids}}}})
	}); err != nil {
		return fmt.Errorf("delete published outbox entries: %w", err)
	}
	for _, e := range events {
		s.local.forget(e.ID)
	}
	return nil
}
