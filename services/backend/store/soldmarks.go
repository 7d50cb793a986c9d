package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"littleecom.io/littleecom/services/internal/mongox"
)

// A bought item is not rewritten. Its order, keyed by the item's id, is what makes it sold:
// GetItem looks the order up beside the item, and a second claim fails on the order's key.
// Listings, which read many items at once, learn which are sold from a small marker per
// bought item in CollSold, inserted by group commit after the claim. ClearSold, which the
// backend runs every few seconds, then deletes the bought items and their markers, a few
// commands for all of them, so the markers stay as few as the buys of the last seconds and
// the items collection holds what is on sale (and what was taken down). An item may go
// before its add event went out: the order keeps that event too (Order.ItemEventID), for
// the relay's recovery. A marker the recovery wrote for an order of an earlier version,
// which does not keep it, waits until the recovery checkpoint has passed the buy.
//
// Why not an update: FerretDB v1 rewrites each updated document in a transaction of its own
// (its backend's UpdateAll), 0.5–0.7 ms of its single SQLite writer per item even when the
// statements share a command, which capped buys at the original's rate
// (docs/performance-backend.md). Inserts of many documents share one transaction, and a
// delete by a list of ids is one statement.

// Sold markers' fields. orderKeepsItem says that the order keeps all of the item that its
// add event needs, so that the item can go at once.
const (
	fieldSoldAt         = "sold_at"
	fieldOrderKeepsItem = "order_keeps_item"
)

// maxClearSold bounds the bought items one pair of delete commands clears.
const maxClearSold = 1000

// newSoldMarker encodes the marker of the item id bought at at.
func newSoldMarker(id bson.ObjectID, at time.Time, orderKeepsItem bool) bsoncore.Document {
	return bsoncore.NewDocumentBuilder().
		AppendObjectID(mongox.FieldID, id).
		AppendDateTime(fieldSoldAt, at.UnixMilli()).
		AppendBoolean(fieldOrderKeepsItem, orderKeepsItem).
		Build()
}

// markSold inserts the sold marker of the item id bought at at, in a command shared with the
// buys under way. A marker already there (the relay's recovery marking again) is success.
func (s *Store) markSold(ctx context.Context, id bson.ObjectID, at time.Time, orderKeepsItem bool) error {
	_, err := s.soldInserts.insert(ctx, newSoldMarker(id, at, orderKeepsItem))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("mark item %s sold: %w", id.Hex(), err)
	}
	return nil
}

// bought reports whether the item id has an order: the claim that sold it.
func (s *Store) bought(ctx context.Context, id bson.ObjectID) (bool, error) {
	// An _id lookup, answered from the lookup index like findItem's, outside the read gate.
	err := s.orders.FindOne(ctx, bson.D{{Key: mongox.FieldID, Value: id}},
		options.FindOne().SetProjection(bson.D{{Key: mongox.FieldID, Value: 1}})).Err()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return false, nil
	default:
		return false, fmt.Errorf("find order of item %s: %w", id.Hex(), err)
	}
}

// soldAmong returns which of the items are marked sold.
func (s *Store) soldAmong(ctx context.Context, items []Item) (map[bson.ObjectID]bool, error) {
	sold := map[bson.ObjectID]bool{}
	if len(items) == 0 {
		return sold, nil
	}
	ids := make(bson.A, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	markers, err := s.markersOf(ctx, bson.D{{Key: mongox.FieldID, Value: bson.D{{Key: opIn, Value: ids}}}}, 0)
	if err != nil {
		return nil, err
	}
	for _, id := range markers {
		sold[id] = true
	}
	return sold, nil
}

// soldMarker is a marker as read back: the bought item's id.
type soldMarker struct {
	ItemID bson.ObjectID `bson:"_id"`
}

// markersOf returns the ids of the sold markers that match filter, at most limit (0: all).
func (s *Store) markersOf(ctx context.Context, filter bson.D, limit int64) ([]bson.ObjectID, error) {
	opts := options.Find().SetProjection(bson.D{{Key: mongox.FieldID, Value: 1}}).SetLimit(limit)
	// Through the read gate: on FerretDB any filter but an exact _id reads the collection.
	markers, err := read(ctx, s, func() ([]soldMarker, error) {
		cur, err := s.sold.Find(ctx, filter, opts)
		if err != nil {
			return nil, err
		}
		return decodeAll[soldMarker](ctx, cur)
	})
	if err != nil {
		return nil, fmt.Errorf("find sold markers: %w", err)
	}
	ids := make([]bson.ObjectID, len(markers))
	for i, m := range markers {
		ids[i] = m.ItemID
	}
	return ids, nil
}

// ClearSold deletes the bought items whose markers allow it (every one a buy wrote; one the
// recovery wrote once the checkpoint has passed its buy), and then their markers: a marker
// outlives its item, never the reverse, so a listing that read the markers before the item
// was deleted still hides it. It reports how many it cleared.
func (s *Store) ClearSold(ctx context.Context) (int, error) {
	through, err := s.checkpoint(ctx)
	if err != nil {
		return 0, err
	}
	clearable := bson.D{{Key: opOr, Value: bson.A{
		bson.D{{Key: fieldOrderKeepsItem, Value: true}},
		bson.D{{Key: fieldSoldAt, Value: bson.D{{Key: opLt, Value: through}}}},
	}}}
	cleared := 0
	for {
		ids, err := s.markersOf(ctx, clearable, maxClearSold)
		if err != nil || len(ids) == 0 {
			return cleared, err
		}
		in := bson.D{{Key: mongox.FieldID, Value: bson.D{{Key: opIn, Value: ids}}}}
		// Each is one statement and one transaction for all the ids. On FerretDB it is
		// mostly a read of the whole collection to find them, so it goes through the read
		// gate: through the write gate, that read would hold every buy and new item behind
		// it. Its short write then waits for SQLite's lock like any second writer.
		for _, coll := range []*mongo.Collection{s.items, s.sold} {
			_, err := read(ctx, s, func() (*mongo.DeleteResult, error) { return coll.DeleteMany(ctx, in) })
			if err != nil {
				return cleared, fmt.Errorf("clear %d bought items from %s: %w", len(ids), coll.Name(), err)
			}
		}
		cleared += len(ids)
		if len(ids) < maxClearSold {
			return cleared, nil
		}
	}
}

// ClearLegacySold deletes the items a previous version marked sold (status sold, set when a
// buy rewrote its item) once the recovery checkpoint has passed their sale, as ClearSold
// does for the items bought since: a sold item then keeps nothing in the items collection,
// neither its listing nor the buyer's id and address those versions copied into it (the
// order keeps the buy). It reports how many it deleted.
func (s *Store) ClearLegacySold(ctx context.Context) (int64, error) {
	through, err := s.checkpoint(ctx)
	if err != nil || through.IsZero() {
		return 0, err
	}
	filter := bson.D{{Key: fieldStatus, Value: StatusSold}, {Key: fieldUpdatedAt, Value: bson.D{{Key: opLt, Value: through}}}}
	// Through the read gate, as ClearSold's deletes: on FerretDB mostly a read of the items.
	res, err := read(ctx, s, func() (*mongo.DeleteResult, error) { return s.items.DeleteMany(ctx, filter) })
	if err != nil {
		return 0, fmt.Errorf("clear items sold by a previous version: %w", err)
	}
	return res.DeletedCount, nil
}
