package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/services/internal/mongox"
)

// checkpointID is the _id of the recovery checkpoint document in CollRelay; fieldThrough
// its field: every event created before it has been published.
const (
	checkpointID = "recovery"
	fieldThrough = "through"
)

// published is the record of an event the broker confirmed.
type published struct {
	EventID   string    `bson:"_id"`
	CreatedAt time.Time `bson:"created_at"`
}

// Published records events the broker confirmed: one insert of many small documents per
// batch, whatever the size of the shop. Recording an event twice (it was published twice:
// at least once) is not an error.
func (s *Store) Published(ctx context.Context, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	docs := make([]any, len(events))
	for i, e := range events {
		docs[i] = published{EventID: e.ID, CreatedAt: e.CreatedAt}
	}
	_, err := write(ctx, s, func() (*mongo.InsertManyResult, error) {
		return s.published.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	})
	if err != nil && !onlyDuplicates(err) {
		return fmt.Errorf("record %d published events: %w", len(events), err)
	}
	return nil
}

// onlyDuplicates reports whether every error of a bulk insert is a duplicate key.
func onlyDuplicates(err error) bool {
	perDoc, whole := mongox.BulkWriteErrors(err)
	if whole != nil || len(perDoc) == 0 {
		return false
	}
	for _, e := range perDoc {
		if !mongo.IsDuplicateKeyError(e) {
			return false
		}
	}
	return true
}

// Recovery is what one look for pending events found.
type Recovery struct {
	// Events are pending: created since the checkpoint and not recorded as published.
	Events []Event
	// Through is how far the look got: once Events are published, every event created
	// before Through is, and Recovered(Through) may advance the checkpoint.
	Through time.Time
}

// PendingEvents looks for events of documents written between the recovery checkpoint and
// before that were never recorded as published, at most limit per collection, oldest first. The relay
// runs it at start, on reconnect and periodically, to publish the events of a process that
// died before its relay did; a live relay has its own events in memory, which is why before
// lags the present by more than a request can last. For an order it first makes sure the
// item is gone, finishing a buy whose process died between the claim and the delete.
//
// On FerretDB these queries scan the collections (only exact _id filters reach SQLite), so
// the relay runs them rarely; on MongoDB the indexes on created_at and bought_at answer them.
func (s *Store) PendingEvents(ctx context.Context, before time.Time, limit int) (Recovery, error) {
	from, err := s.checkpoint(ctx)
	if err != nil {
		return Recovery{}, err
	}
	rec := Recovery{Through: before}
	if !from.Before(before) {
		rec.Through = from
		return rec, nil
	}
	var all []Event
	for _, q := range []struct {
		coll  *mongo.Collection
		field string
	}{{s.items, fieldCreatedAt}, {s.orders, fieldBoughtAt}} {
		evs, last, err := s.eventsIn(ctx, q.coll, q.field, from, before, limit)
		if err != nil {
			return Recovery{}, err
		}
		// A look that read limit documents got only as far as the last one: more may follow.
		if !last.IsZero() && last.Before(rec.Through) {
			rec.Through = last
		}
		all = append(all, evs...)
	}
	done, err := s.publishedAmong(ctx, all)
	if err != nil {
		return Recovery{}, err
	}
	for _, e := range all {
		// An item's add event comes from the item and from its order while both exist, and
		// from the order alone when the item is gone or was listed before the checkpoint
		// (then it is out: everything created before the checkpoint is).
		if done[e.ID] || e.CreatedAt.Before(from) || e.CreatedAt.After(rec.Through) {
			continue
		}
		done[e.ID] = true
		if e.Source == CollOrders {
			if err := s.removeBought(ctx, e.SourceID); err != nil {
				return Recovery{}, err
			}
		}
		rec.Events = append(rec.Events, e)
	}
	return rec, nil
}

// eventsIn returns the events of the documents of coll whose field (their event time) is in
// [from, before), oldest first, at most limit documents; and, when it read limit of them,
// the last one's time (else zero).
func (s *Store) eventsIn(ctx context.Context, coll *mongo.Collection, field string, from, before time.Time,
	limit int) ([]Event, time.Time, error) {
	filter := bson.D{{Key: field, Value: bson.D{{Key: opGte, Value: from}, {Key: opLt, Value: before}}}}
	opts := options.Find().SetLimit(int64(limit)).SetSort(bson.D{{Key: field, Value: 1}})
	cur, err := read(ctx, s, func() (*mongo.Cursor, error) { return coll.Find(ctx, filter, opts) })
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("find events in %s: %w", coll.Name(), err)
	}
	defer func() { _ = cur.Close(ctx) }()
	var (
		out  []Event
		docs int
		last time.Time
	)
	for cur.Next(ctx) {
		evs, err := s.eventsOf(coll, cur.Current)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("event of a document in %s: %w", coll.Name(), err)
		}
		out = append(out, evs...)
		docs++
		if t, ok := cur.Current.Lookup(field).TimeOK(); ok {
			last = t
		}
	}
	if err := cur.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("find events in %s: %w", coll.Name(), err)
	}
	if docs < limit {
		last = time.Time{}
	}
	return out, last, nil
}

// eventsOf returns the events a document of coll carries: an item its add event, an order
// its buy event and, when the order keeps it, its item's add event (the item may be gone).
func (s *Store) eventsOf(coll *mongo.Collection, raw bson.Raw) ([]Event, error) {
	if coll != s.orders {
		var it Item
		if err := bson.Unmarshal(raw, &it); err != nil || it.EventID == "" {
			return nil, err
		}
		add, err := addEvent(&it)
		return []Event{add}, err
	}
	var o Order
	if err := bson.Unmarshal(raw, &o); err != nil || o.EventID == "" {
		return nil, err
	}
	buy, err := buyEvent(&o)
	if err != nil {
		return nil, err
	}
	add, ok, err := boughtItemAddEvent(&o)
	if !ok {
		return []Event{buy}, nil
	}
	return []Event{buy, add}, err
}

// publishedAmong returns which of evs are recorded as published.
func (s *Store) publishedAmong(ctx context.Context, evs []Event) (map[string]bool, error) {
	done := make(map[string]bool, len(evs))
	if len(evs) == 0 {
		return done, nil
	}
	ids := make(bson.A, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	cur, err := read(ctx, s, func() (*mongo.Cursor, error) {
		return s.published.Find(ctx, bson.D{{Key: mongox.FieldID, Value: bson.D{{Key: opIn, Value: ids}}}},
			options.Find().SetProjection(bson.D{{Key: mongox.FieldID, Value: 1}}))
	})
	if err != nil {
		return nil, fmt.Errorf("find publication records: %w", err)
	}
	recs, err := decodeAll[published](ctx, cur)
	if err != nil {
		return nil, fmt.Errorf("find publication records: %w", err)
	}
	for _, r := range recs {
		done[r.EventID] = true
	}
	return done, nil
}

// checkpoint returns the recovery checkpoint; zero before the first.
func (s *Store) checkpoint(ctx context.Context) (time.Time, error) {
	var doc struct {
		Through time.Time `bson:"through"`
	}
	raw, err := read(ctx, s, func() (bson.Raw, error) {
		return s.relay.FindOne(ctx, bson.D{{Key: mongox.FieldID, Value: checkpointID}}).Raw()
	})
	if errors.Is(err, mongo.ErrNoDocuments) {
		return time.Time{}, nil
	}
	if err == nil {
		err = bson.Unmarshal(raw, &doc)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read recovery checkpoint: %w", err)
	}
	return doc.Through, nil
}

// startCheckpoint sets the recovery checkpoint to now unless there is one: documents
// written before the first start of this design had their events published through the
// old outbox collection.
func (s *Store) startCheckpoint(ctx context.Context) error {
	_, err := s.relay.InsertOne(ctx, bson.D{{Key: mongox.FieldID, Value: checkpointID}, {Key: fieldThrough, Value: s.now().UTC()}})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("start recovery checkpoint: %w", err)
	}
	return nil
}

// Recovered advances the recovery checkpoint to through, once every event created before
// it has been published, and forgets the publication records before it. The checkpoint
// only moves forward ($max), so replicas recovering at once cannot move it back.
func (s *Store) Recovered(ctx context.Context, through time.Time) error {
	_, err := write(ctx, s, func() (*mongo.UpdateResult, error) {
		return s.relay.UpdateOne(ctx, bson.D{{Key: mongox.FieldID, Value: checkpointID}},
			bson.D{{Key: opMax, Value: bson.D{{Key: fieldThrough, Value: through}}}}, options.UpdateOne().SetUpsert(true))
	})
	if err != nil {
		return fmt.Errorf("advance recovery checkpoint: %w", err)
	}
	_, err = write(ctx, s, func() (*mongo.DeleteResult, error) {
		return s.published.DeleteMany(ctx, bson.D{{Key: fieldCreatedAt, Value: bson.D{{Key: opLt, Value: through}}}})
	})
	if err != nil {
		return fmt.Errorf("forget publication records: %w", err)
	}
	return nil
}
