package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"littleecom.io/littleecom/internal/ferret"
	"littleecom.io/littleecom/services/internal/testinfra"
)

// heldBatcher is an insertBatcher on a fresh FerretDB collection whose first insert
// command waits until release is closed, so that tests can line requests up behind it.
type heldBatcher struct {
	*insertBatcher
	*heldCommands
	coll *mongo.Collection
}

func newHeldBatcher(t *testing.T) *heldBatcher {
	t.Helper()
	return newHeldBatcherOn(t, testinfra.StartFerretDB(t))
}

func newHeldBatcherOn(t *testing.T, uri string) *heldBatcher {
	t.Helper()
	coll := connect(t, uri).Database("batch").Collection("docs")
	h := &heldBatcher{insertBatcher: newInsertBatcher(nil), heldCommands: newHeldCommands(), coll: coll}
	send := unorderedInsert(coll)
	h.send = func(ctx context.Context, docs []any) (*mongo.InsertManyResult, error) {
		h.sent(len(docs))
		return send(ctx, docs)
	}
	return h
}

// queued reports how many requests wait for a command.
func (h *heldBatcher) queued() int { return h.group.queued() }

func keyDoc(k string) bsoncore.Document {
	return bsoncore.NewDocumentBuilder().AppendString("k", k).Build()
}

// insertAsync inserts keyDoc(k) in the background and delivers the outcome on the channel.
func (h *heldBatcher) insertAsync(ctx context.Context, k string) <-chan insertOutcome {
	out := make(chan insertOutcome, 1)
	go func() {
		id, err := h.insert(ctx, keyDoc(k))
		out <- insertOutcome{k: k, id: id, err: err}
	}()
	return out
}

type insertOutcome struct {
	k   string
	id  bson.ObjectID
	err error
}

// keyOf reads back the document with id and returns its k.
func (h *heldBatcher) keyOf(t *testing.T, id bson.ObjectID) string {
	t.Helper()
	var got struct {
		K string `bson:"k"`
	}
	if err := h.coll.FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&got); err != nil {
		t.Fatalf("find %s: %v", id.Hex(), err)
	}
	return got.K
}

// Requests that arrive while a command runs go to the database together in the next one,
// and each gets the id of its own document.
func TestInsertBatcher_WaitingInsertsShareTheNextCommand(t *testing.T) {
	h := newHeldBatcher(t)
	ctx := context.Background()
	const waiting = 99
	outs := []<-chan insertOutcome{h.insertAsync(ctx, "leader")}
	waitUntil(t, "the first command is sent", func() bool { return len(h.commandSizes()) == 1 })
	for i := range waiting {
		outs = append(outs, h.insertAsync(ctx, fmt.Sprintf("k%02d", i)))
	}
	waitUntil(t, "all requests are queued", func() bool { return h.queued() == waiting })
	close(h.release)

	ids := map[bson.ObjectID]bool{}
	for _, out := range outs {
		o := <-out
		if o.err != nil {
			t.Fatalf("insert %s: %v", o.k, o.err)
		}
		if ids[o.id] {
			t.Fatalf("id %s handed out twice", o.id.Hex())
		}
		ids[o.id] = true
		if got := h.keyOf(t, o.id); got != o.k {
			t.Fatalf("request %s got the id of document %s", o.k, got)
		}
	}
	if got := h.commandSizes(); len(got) != 2 || got[0] != 1 || got[1] != waiting {
		t.Fatalf("command sizes = %v, want [1 %d]", got, waiting)
	}
}

// One document's failure fails only its own request; the others in its command are written.
func TestInsertBatcher_FailedDocumentFailsOnlyItsRequest(t *testing.T) {
	h := newHeldBatcher(t)
	ctx := context.Background()
	if _, err := h.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "k", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.coll.InsertOne(ctx, keyDoc("taken")); err != nil {
		t.Fatal(err)
	}
	first := h.insertAsync(ctx, "first")
	waitUntil(t, "the first command is sent", func() bool { return len(h.commandSizes()) == 1 })
	outs := []<-chan insertOutcome{h.insertAsync(ctx, "a"), h.insertAsync(ctx, "taken"), h.insertAsync(ctx, "b")}
	waitUntil(t, "all requests are queued", func() bool { return h.queued() == 3 })
	close(h.release)

	for _, out := range append(outs, first) {
		o := <-out
		if o.k == "taken" {
			if !mongo.IsDuplicateKeyError(o.err) {
				t.Fatalf("duplicate document: err = %v, want a duplicate key error", o.err)
			}
			continue
		}
		if o.err != nil {
			t.Fatalf("insert %s: %v", o.k, o.err)
		}
		if got := h.keyOf(t, o.id); got != o.k {
			t.Fatalf("request %s got the id of document %s", o.k, got)
		}
	}
	if got := h.commandSizes(); len(got) != 2 || got[1] != 3 {
		t.Fatalf("command sizes = %v, want the three queued documents in one command", got)
	}
}

// A request whose context ends while it waits for its turn leaves the queue: it gets the
// context's error and its document is never written.
func TestInsertBatcher_CancelledWhileQueuedWritesNothing(t *testing.T) {
	h := newHeldBatcher(t)
	ctx := context.Background()
	first := h.insertAsync(ctx, "first")
	waitUntil(t, "the first command is sent", func() bool { return len(h.commandSizes()) == 1 })
	cctx, cancel := context.WithCancel(ctx)
	gone := h.insertAsync(cctx, "gone")
	kept := h.insertAsync(ctx, "kept")
	waitUntil(t, "both requests are queued", func() bool { return h.queued() == 2 })
	cancel()
	if o := <-gone; !errors.Is(o.err, context.Canceled) {
		t.Fatalf("cancelled request: err = %v, want context.Canceled", o.err)
	}
	if n := h.queued(); n != 1 {
		t.Fatalf("queue holds %d requests after the cancel, want 1", n)
	}
	close(h.release)
	for _, out := range []<-chan insertOutcome{first, kept} {
		if o := <-out; o.err != nil {
			t.Fatalf("insert %s: %v", o.k, o.err)
		}
	}
	n, err := h.coll.CountDocuments(ctx, bson.D{{Key: "k", Value: "gone"}})
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("the cancelled request's document was written (%d)", n)
	}
}

// Once its document is in a command being sent, a request waits for the command's outcome
// even if its own context ends: the document may be written, and the caller must know.
func TestInsertBatcher_CancelledLeaderStillGetsItsOutcome(t *testing.T) {
	h := newHeldBatcher(t)
	cctx, cancel := context.WithCancel(context.Background())
	out := h.insertAsync(cctx, "leader")
	waitUntil(t, "the first command is sent", func() bool { return len(h.commandSizes()) == 1 })
	cancel()
	close(h.release)
	o := <-out
	if o.err != nil {
		t.Fatalf("leader: %v", o.err)
	}
	if got := h.keyOf(t, o.id); got != "leader" {
		t.Fatalf("leader got the id of document %s", got)
	}
}

// When the database goes away, every request of the command in flight and of the ones
// queued behind it gets an error: none hangs, and the lead is handed on after a failure.
func TestInsertBatcher_DatabaseGoneFailsEveryRequest(t *testing.T) {
	db, err := ferret.Start("127.0.0.1:0", t.TempDir(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Stop)
	h := newHeldBatcherOn(t, db.URI())
	ctx := context.Background()
	first := h.insertAsync(ctx, "first")
	waitUntil(t, "the first command is sent", func() bool { return len(h.commandSizes()) == 1 })
	outs := []<-chan insertOutcome{first}
	for i := range 5 {
		outs = append(outs, h.insertAsync(ctx, fmt.Sprintf("k%d", i)))
	}
	waitUntil(t, "all requests are queued", func() bool { return h.queued() == 5 })
	db.Stop()
	close(h.release)
	for _, out := range outs {
		select {
		case o := <-out:
			if o.err == nil {
				t.Errorf("insert %s succeeded with the database gone", o.k)
			}
		case <-time.After(2 * groupCommitTimeout):
			t.Fatal("a request hangs after the database went away")
		}
	}
	if n := h.queued(); n != 0 {
		t.Fatalf("%d requests left in the queue", n)
	}
}

// A command that panics answers its requests with an error, and the next command goes out:
// a stuck lead would make every later insert wait for ever.
func TestInsertBatcher_PanickingCommandFailsItsBatchOnly(t *testing.T) {
	h := newHeldBatcher(t)
	held := h.send
	var calls atomic.Int32
	h.send = func(ctx context.Context, docs []any) (*mongo.InsertManyResult, error) {
		res, err := held(ctx, docs)
		if calls.Add(1) == 1 {
			panic("driver bug")
		}
		return res, err
	}
	ctx := context.Background()
	first := h.insertAsync(ctx, "first")
	waitUntil(t, "the first command is sent", func() bool { return len(h.commandSizes()) == 1 })
	second := h.insertAsync(ctx, "second")
	waitUntil(t, "the second request is queued", func() bool { return h.queued() == 1 })
	close(h.release)
	if o := <-first; o.err == nil || !strings.Contains(o.err.Error(), "panicked") {
		t.Fatalf("first: err = %v, want the panic as an error", o.err)
	}
	o := <-second
	if o.err != nil {
		t.Fatalf("second: %v", o.err)
	}
	if got := h.keyOf(t, o.id); got != "second" {
		t.Fatalf("second got the id of document %s", got)
	}
}
