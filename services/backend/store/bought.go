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

// A bought item leaves the items collection: once its claim is in, the buy deletes it, in a
// delete command shared with the buys under way (group commit, groupcommit.go), one
// statement per item. The order, keyed by the item's id, is what decides the buy: a second
// claim fails on its key whatever happened to the item, and a crash between the claim and
// the delete leaves the item listed until the relay's recovery deletes it. The order also
// keeps the item's add event (Order.ItemEventID), since the item may go before that event
// went out.
//
// Why a delete and not an update marking the item sold: FerretDB v1 rewrites each updated
// document in a transaction of its own (its backend's UpdateAll), the costliest write of a
// buy; a delete by _id does less (no document decoded and encoded again), and a sold item
// kept in the collection was read by every listing for good (docs/performance-backend.md).
// A marker per bought item instead, with the items deleted in batches later, was tried:
// FerretDB reads the whole collection for a delete by a list of ids and matches each
// document against the list one id at a time, which cost more than the deletes it saved.

// maxRemovalBatch bounds one delete command, so that one slow command holds few requests.
const maxRemovalBatch = 128

// groupRemovals deletes bought items by group commit. The command's outcome cannot say
// which statement matched, and none needs to: a removal is idempotent and the item may be
// gone already (a second look by the relay's recovery).
func (s *Store) groupRemovals() *groupCommit[bson.ObjectID, struct{}] {
	unordered := options.BulkWrite().SetOrdered(false)
	send := func(ctx context.Context, ids []bson.ObjectID) []outcome[struct{}] {
		models := make([]mongo.WriteModel, len(ids))
		for i, id := range ids {
			models[i] = mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: mongox.FieldID, Value: id}})
		}
		_, err := write(ctx, s, func() (*mongo.BulkWriteResult, error) { return s.items.BulkWrite(ctx, models, unordered) })
		// As every item write: each cached copy is forgotten once the command has returned,
		// whatever its outcome (it may be unknown).
		for _, id := range ids {
			s.itemWritten(id)
		}
		if err != nil {
			// Every removal fails with the command: FerretDB v1 stops at the first failing
			// statement and reports it as the first, so no statement's outcome can be
			// trusted. A buy whose removal failed leaves it to the relay's recovery.
			return failAll[struct{}](len(ids), fmt.Errorf("remove %d bought items: %w", len(ids), err))
		}
		return make([]outcome[struct{}], len(ids))
	}
	return &groupCommit[bson.ObjectID, struct{}]{max: maxRemovalBatch, send: send}
}

// removeBought deletes the bought item id, in a command shared with the buys under way, and
// forgets its cached copies.
func (s *Store) removeBought(ctx context.Context, id bson.ObjectID) error {
	_, err := s.removals.do(ctx, id)
	return err
}

// bought reports whether the item id has an order: the claim that sold it.
func (s *Store) bought(ctx context.Context, id bson.ObjectID) (bool, error) {
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

// ClearLegacySold deletes the items a previous version marked sold (status sold, set when a
// buy rewrote its item) once the recovery checkpoint has passed their sale, so that their
// add events are out: a sold item then keeps nothing in the items collection, neither its
// listing nor the buyer's id and address those versions copied into it (the order keeps
// the buy). It reports how many it deleted.
func (s *Store) ClearLegacySold(ctx context.Context) (int64, error) {
	through, err := s.checkpoint(ctx)
	if err != nil || through.IsZero() {
		return 0, err
	}
	filter := bson.D{{Key: fieldStatus, Value: StatusSold}, {Key: fieldUpdatedAt, Value: bson.D{{Key: opLt, Value: through}}}}
	// Through the read gate: on FerretDB this is mostly a read of the whole collection,
	// which through the write gate would hold every buy and new item behind it.
	res, err := read(ctx, s, func() (*mongo.DeleteResult, error) { return s.items.DeleteMany(ctx, filter) })
	if err != nil {
		return 0, fmt.Errorf("clear items sold by a previous version: %w", err)
	}
	return res.DeletedCount, nil
}
