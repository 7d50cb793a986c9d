package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/services/internal/mongox"
)

// Marking a bought item sold is, on FerretDB, the costliest command of a buy: a lookup,
// the document decoded, changed and encoded again, and a transaction of its own. Buys under
// way share update commands by group commit (groupcommit.go), one statement per item, which
// saves the round trips and the per-command work; each statement is still its own write.
// The command's outcome cannot say which statement matched (the server counts them
// together), so only writes that need no count are grouped: a buy's mark and the relay's
// recovery of one, which find the item first. An update or delete of an item by its seller
// checks what it matched and goes alone (setByID).

// maxMarkBatch bounds one update command, so that one slow command holds few requests.
const maxMarkBatch = 128

// soldMark is one item's mark: the fields to set.
type soldMark struct {
	id  bson.ObjectID
	set bson.D
}

func (s *Store) groupSoldMarks() *groupCommit[soldMark, struct{}] {
	unordered := options.BulkWrite().SetOrdered(false)
	return &groupCommit[soldMark, struct{}]{max: maxMarkBatch, send: func(ctx context.Context, marks []soldMark) []outcome[struct{}] {
		models := make([]mongo.WriteModel, len(marks))
		for i, m := range marks {
			models[i] = mongo.NewUpdateOneModel().
				SetFilter(bson.D{{Key: mongox.FieldID, Value: m.id}}).
				SetUpdate(bson.D{{Key: opSet, Value: m.set}})
		}
		_, err := write(ctx, s, func() (*mongo.BulkWriteResult, error) { return s.items.BulkWrite(ctx, models, unordered) })
		// As setByID: each cached copy is forgotten once the write has returned.
		for _, m := range marks {
			s.itemWritten(m.id)
		}
		if err != nil {
			// Every mark fails with the command, even when the server names one statement:
			// FerretDB v1 stops at the first failing statement of an update and reports it
			// as the first, so neither the index nor the statements after it can be
			// trusted. A mark is idempotent; a buy whose mark failed leaves it to the
			// relay's recovery, which marks again.
			return failAll[struct{}](len(marks), fmt.Errorf("mark %d items sold: %w", len(marks), err))
		}
		return make([]outcome[struct{}], len(marks))
	}}
}

// soldFields are what marking an item sold at at sets.
func soldFields(at time.Time) bson.D {
	return bson.D{{Key: fieldStatus, Value: StatusSold}, {Key: fieldUpdatedAt, Value: at}}
}

// markSold sets the fields of a bought item, in a command shared with the buys under way.
func (s *Store) markSold(ctx context.Context, id bson.ObjectID, set bson.D) error {
	_, err := s.soldMarks.do(ctx, soldMark{id: id, set: set})
	return err
}
