package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Events returns up to limit outbox entries, oldest first, whose domain write exists: the
// ones the relay may publish. On the way it deletes orphans (entries whose domain write never
// happened, older than OrphanAfter) and finishes buys whose item was not yet marked sold
// because the process died between the claim and the mark.
func (s *Store) Events(ctx context.Context, limit int) ([]Event, error) {
	cur, err := s.outbox.Find(ctx, bson.D{},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	var pending []Event
	if err := cur.All(ctx, &pending); err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	if len(pending) == 0 {
		return nil, nil
	}

	written := map[string]bool{} // event ids whose domain document exists
	for _, source := range []string{CollItems, CollOrders} {
		if err := s.findWritten(ctx, source, pending, written); err != nil {
			return nil, err
		}
	}

	var ready, orphans []Event
	var bought []bson.ObjectID
	now := s.now()
	for _, e := range pending {
		switch {
		case written[e.ID]:
			ready = append(ready, e)
			if e.Source == CollOrders {
				bought = append(bought, e.SourceID)
			}
		case now.Sub(e.CreatedAt) > OrphanAfter:
			orphans = append(orphans, e)
		}
		// Otherwise the domain write may still be under way: look again next time.
	}
	if err := s.markSold(ctx, bought); err != nil {
		return nil, err
	}
	if err := s.Published(ctx, orphans); err != nil {
		return nil, fmt.Errorf("delete orphans: %w", err)
	}
	return ready, nil
}

// findWritten adds to found the ids of the events in pending whose document exists in source.
func (s *Store) findWritten(ctx context.Context, source string, pending []Event, found map[string]bool) error {
	var ids bson.A
	for _, e := range pending {
		if e.Source == source {
			ids = append(ids, e.SourceID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	coll := s.items
	if source == CollOrders {
		coll = s.orders
	}
	cur, err := coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "event_id", Value: 1}}))
	if err != nil {
		return fmt.Errorf("check %s for outbox entries: %w", source, err)
	}
	var docs []struct {
		EventID string `bson:"event_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return fmt.Errorf("check %s for outbox entries: %w", source, err)
	}
	for _, d := range docs {
		found[d.EventID] = true
	}
	return nil
}

// markSold marks the items of existing orders sold. Normally Buy did it already and this
// changes nothing; after a crash between claim and mark it takes the item out of the shop.
func (s *Store) markSold(ctx context.Context, ids []bson.ObjectID) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.items.UpdateMany(ctx,
		bson.D{
			{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}},
			{Key: "status", Value: bson.D{{Key: "$ne", Value: StatusSold}}},
		},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: StatusSold}, {Key: "updated_at", Value: s.now().UTC()}}}})
	if err != nil {
		return fmt.Errorf("mark bought items sold: %w", err)
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
	if _, err := s.outbox.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
		return fmt.Errorf("delete published outbox entries: %w", err)
	}
	return nil
}
