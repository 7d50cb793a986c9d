package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"littleecom.io/littleecom/services/internal/mongox"
)

// New items are inserted by group commit: the inserts that arrive while one insert command
// is running wait for it, then go to the database together in the next one (unordered, so
// one document's failure fails only its own request). Every document is still its own
// atomic insert, so an item and its event are written together or not at all. Under load
// this divides the round trips, the driver's work and FerretDB's transactions per item by
// the number of waiting requests (docs/performance-backend.md); a lone request is sent at
// once, as before. FerretDB queues writes anyway (gate.go), so nothing waits longer than it
// would have in that queue.

// maxInsertBatch bounds one insert command, so that one slow command holds few requests.
const maxInsertBatch = 128

// insertBatchTimeout bounds one insert command: the requests in it share it, so no single
// request's context may cancel it.
const insertBatchTimeout = 10 * time.Second

// insertBatcher inserts documents into one collection by group commit. At most one insert
// command is in flight; the request that sends it (the leader) hands the lead to the
// oldest waiting request when its command returns.
type insertBatcher struct {
	send insertCommand

	mu      sync.Mutex
	queue   []*queuedInsert
	leading bool // an insert command is being sent
}

// queuedInsert is one request's document. Its fields after doc are guarded by the batcher's
// mutex until done is closed.
type queuedInsert struct {
	doc  bsoncore.Document
	done chan struct{} // closed when id and err are set, or when this request is to lead

	taken bool // in the command being sent; the request must wait for its outcome
	lead  bool // the previous leader handed the lead to this request
	id    bson.ObjectID
	err   error
}

// insertCommand sends documents to the database in one unordered insert.
type insertCommand func(ctx context.Context, docs []any) (*mongo.InsertManyResult, error)

// unorderedInsert returns the insertCommand for coll.
func unorderedInsert(coll *mongo.Collection) insertCommand {
	unordered := options.InsertMany().SetOrdered(false)
	return func(ctx context.Context, docs []any) (*mongo.InsertManyResult, error) {
		return coll.InsertMany(ctx, docs, unordered)
	}
}

// insert writes doc and returns its _id, an ObjectID: the document's own or, when it has
// none, a fresh one the driver adds (cheaper: given an _id, the driver decodes the whole
// document again to find it). If ctx ends while the document waits for its turn, nothing is written; once it is
// in a command being sent, insert waits for that command's outcome.
func (b *insertBatcher) insert(ctx context.Context, doc bsoncore.Document) (bson.ObjectID, error) {
	me := &queuedInsert{doc: doc, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, me)
	if b.leading {
		b.mu.Unlock()
		if !b.wait(ctx, me) {
			return bson.ObjectID{}, ctx.Err()
		}
		if !me.lead {
			return me.id, me.err
		}
		b.mu.Lock()
	}
	b.leading = true
	n := min(len(b.queue), maxInsertBatch)
	batch := make([]*queuedInsert, n)
	copy(batch, b.queue)
	b.queue = append(b.queue[:0:0], b.queue[n:]...)
	for _, q := range batch {
		q.taken = true
	}
	b.mu.Unlock()

	b.sendBatch(ctx, batch, me)

	b.mu.Lock()
	if len(b.queue) > 0 {
		next := b.queue[0]
		next.lead = true
		close(next.done)
	} else {
		b.leading = false
	}
	b.mu.Unlock()
	return me.id, me.err
}

// wait blocks until me has its outcome or the lead. It reports false if ctx ended while me
// was still queued, in which case me has left the queue and nothing of it is written.
func (b *insertBatcher) wait(ctx context.Context, me *queuedInsert) bool {
	select {
	case <-me.done:
		return true
	case <-ctx.Done():
	}
	b.mu.Lock()
	if me.taken || me.lead {
		b.mu.Unlock()
		<-me.done
		return true
	}
	for i, q := range b.queue {
		if q == me {
			b.queue = append(b.queue[:i], b.queue[i+1:]...)
			break
		}
	}
	b.mu.Unlock()
	return false
}

// sendBatch inserts the batch's documents with one command and hands every request but
// the leader (me) its outcome.
func (b *insertBatcher) sendBatch(ctx context.Context, batch []*queuedInsert, me *queuedInsert) {
	docs := make([]any, len(batch))
	for i, q := range batch {
		docs[i] = q.doc
	}
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), insertBatchTimeout)
	res, err := b.sendRecovering(ictx, docs)
	cancel()
	// When only some documents failed, the others are written.
	failed, err := mongox.InsertManyErrors(err)
	// The driver lists the ids of the written documents only, in the batch's order.
	if err == nil && (res == nil || len(res.InsertedIDs) != len(batch)-len(failed)) {
		err = fmt.Errorf("insert answered %d ids for %d documents with %d failed", insertedCount(res), len(batch), len(failed))
	}
	written := 0
	for i, q := range batch {
		switch {
		case err != nil:
			q.err = err
		case failed[i] != nil:
			q.err = failed[i]
		default:
			q.id, q.err = insertedID(res.InsertedIDs[written])
			written++
		}
		if q != me {
			close(q.done)
		}
	}
}

// sendRecovering sends the command, turning a panic into the batch's error: the requests
// waiting on the command must be answered and the lead handed on, or every later insert
// would wait for ever.
func (b *insertBatcher) sendRecovering(ctx context.Context, docs []any) (res *mongo.InsertManyResult, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("insert command panicked: %v", p)
		}
	}()
	return b.send(ctx, docs)
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
