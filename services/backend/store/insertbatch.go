package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"littleecom.io/littleecom/services/internal/mongox"
)

// New items and buy claims are inserted by group commit (groupcommit.go): every document
// is still its own atomic insert, so an item and its event are written together or not at
// all, and of two claims on one item, in one command or not, the unique _id lets one in.

// maxInsertBatch bounds one insert command, so that one slow command holds few requests.
const maxInsertBatch = 128

// insertBatcher inserts documents into one collection by group commit.
type insertBatcher struct {
	send  insertCommand
	group groupCommit[bsoncore.Document, bson.ObjectID]
}

// insertCommand sends documents to the database in one unordered insert.
type insertCommand func(ctx context.Context, docs []any) (*mongo.InsertManyResult, error)

func newInsertBatcher(send insertCommand) *insertBatcher {
	b := &insertBatcher{send: send}
	b.group = groupCommit[bsoncore.Document, bson.ObjectID]{max: maxInsertBatch, send: b.insertAll}
	return b
}

// unorderedInsert returns the insertCommand for coll.
func unorderedInsert(coll *mongo.Collection) insertCommand {
	unordered := options.InsertMany().SetOrdered(false)
	return func(ctx context.Context, docs []any) (*mongo.InsertManyResult, error) {
		return coll.InsertMany(ctx, docs, unordered)
	}
}

// insert writes doc and returns its _id, an ObjectID: the document's own or, when it has
// none, a fresh one the driver adds (cheaper: given an _id, the driver decodes the whole
// document again to find it). If ctx ends while the document waits for its turn, nothing
// is written; once it is in a command being sent, insert waits for that command's outcome.
func (b *insertBatcher) insert(ctx context.Context, doc bsoncore.Document) (bson.ObjectID, error) {
	return b.group.do(ctx, doc)
}

// insertAll inserts the documents with one command: each one's id or error.
func (b *insertBatcher) insertAll(ctx context.Context, batch []bsoncore.Document) []outcome[bson.ObjectID] {
	docs := make([]any, len(batch))
	for i, d := range batch {
		docs[i] = d
	}
	res, err := b.send(ctx, docs)
	// When only some documents failed, the others are written.
	failed, err := mongox.BulkWriteErrors(err)
	// The driver lists the ids of the written documents only, in the batch's order.
	if err == nil && (res == nil || len(res.InsertedIDs) != len(batch)-len(failed)) {
		err = fmt.Errorf("insert answered %d ids for %d documents with %d failed", insertedCount(res), len(batch), len(failed))
	}
	if err != nil {
		return failAll[bson.ObjectID](len(batch), err)
	}
	outs := make([]outcome[bson.ObjectID], len(batch))
	written := 0
	for i := range batch {
		if failed[i] != nil {
			outs[i].err = failed[i]
			continue
		}
		outs[i].val, outs[i].err = insertedID(res.InsertedIDs[written])
		written++
	}
	return outs
}

func insertedCount(res *mongo.InsertManyResult) int {
	if res == nil {
		return 0
	}
	return len(res.InsertedIDs)
}

func insertedID(v any) (bson.ObjectID, error) {
	id, ok := v.(bson.ObjectID)
	if !ok {
		return bson.ObjectID{}, fmt.Errorf("inserted id %v is not an ObjectID", v)
	}
	return id, nil
}
