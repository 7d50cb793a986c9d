package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/services/internal/mongox"
)

// inserter groups concurrent single-document inserts into one unordered InsertMany. Every
// e-mail costs two inserts (claim, sent marker); on FerretDB's SQLite backend each insert
// is a transaction with its own fsync, which capped the notifier at ~450 e-mails/s. One
// InsertMany is one transaction for the batch (on MongoDB: one round trip), and the server
// still reports a duplicate key per document, so the claim stays an atomic unique insert.
//
// Batching is opportunistic: a request that finds the flusher idle goes out alone at once;
// requests that arrive during a flush go out together in the next. Nothing waits for a
// batch to fill, so a quiet notifier sees no added latency.
type inserter struct {
	coll     *mongo.Collection
	reqs     chan insertReq
	maxBatch int
	timeout  time.Duration
}

type insertReq struct {
	doc any
	res chan error // buffered(1): the flusher never blocks on a caller that gave up
}

func newInserter(coll *mongo.Collection, maxBatch int) *inserter {
	return &inserter{coll: coll, reqs: make(chan insertReq), maxBatch: maxBatch, timeout: 10 * time.Second}
}

// insert inserts doc. A duplicate _id comes back as an error for which
// mongo.IsDuplicateKeyError holds, as with InsertOne.
func (b *inserter) insert(ctx context.Context, doc any) error {
	req := insertReq{doc: doc, res: make(chan error, 1)}
	select {
	case b.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run flushes batches until stop is closed. It must run while anyone calls insert.
func (b *inserter) run(stop <-chan struct{}) {
	batch := make([]insertReq, 0, b.maxBatch)
	for {
		select {
		case req := <-b.reqs:
			batch = append(batch[:0], req)
		case <-stop:
			return
		}
	collect:
		for len(batch) < b.maxBatch {
			select {
			case req := <-b.reqs:
				batch = append(batch, req)
			default:
				break collect
			}
		}
		b.flush(batch)
	}
}

func (b *inserter) flush(batch []insertReq) {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	docs := make([]any, len(batch))
	for i, r := range batch {
		docs[i] = r.doc
	}
	_, err := b.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	perDoc, whole := mongox.BulkWriteErrors(err)
	if whole != nil {
		// The whole call failed: none of the documents can be taken as written.
		whole = fmt.Errorf("insert into %s: %w", b.coll.Name(), whole)
	}
	for i, r := range batch {
		if whole != nil {
			r.res <- whole
		} else {
			r.res <- perDoc[i]
		}
	}
}
