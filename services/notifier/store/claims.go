package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"littleecom.io/littleecom/services/internal/mongox"
)

// Exactly one e-mail per event, even when RabbitMQ redelivers a message or a publisher sends
// an event twice, rests on claims in MongoDB:
//
//   - Before sending, a worker INSERTS {_id: "<event id>/<recipient kind>", status: pending,
//     gen: 0, claimed_at}. The unique _id makes the insert the atomic step: of any number of
//     workers exactly one succeeds, on MongoDB and on FerretDB alike. (FerretDB's conditional
//     updates and findAndModify are not atomic under concurrency, so claims never rely on them.)
//   - The winner sends, then inserts {_id: key} into the sent collection. A later duplicate
//     finds that marker and only acks. Recording "sent" as an insert rather than an update of
//     the claim keeps the hot path to two inserts: on FerretDB's SQLite backend an update by
//     _id scans the collection (measured: 30 e-mails/s at 5,000 claims), an insert does not.
//   - A duplicate that finds "pending" backs off: another worker is sending right now.
//   - Crash window: a worker that claimed and died before sending leaves "pending" forever.
//     Such a claim may be retaken once it is older than the lease (longer than the SMTP
//     timeouts, so a live owner has finished or failed by then). Retaking is itself an
//     insert: of a marker "<key>#<gen+1>" in the leases collection, so again exactly one
//     worker wins the new generation. A worker whose send failed releases its claim
//     (status: released) so that the retry need not wait for the lease.
//   - The remaining window: the mail was accepted by the server but the worker died before
//     writing "sent". After the lease the event is sent again. Closing it would need the SMTP
//     server to take part in a transaction; the window is the few milliseconds between the
//     server's 250 and one database write, and the Message-ID is the same in both copies.

const (
	claimPending  = "pending"
	claimReleased = "released"
)

// Field names of claim, lease and sent documents that queries and indexes use; they are the
// bson tags of claimDoc and sentDoc.
const (
	fieldStatus    = "status"
	fieldGen       = "gen"
	fieldClaimedAt = "claimed_at"
	fieldSentAt    = "sent_at"
)

// claimDoc is one e-mail's claim.
type claimDoc struct {
	ID        string    `bson:"_id"`
	Status    string    `bson:"status"`
	Gen       int       `bson:"gen"`
	ClaimedAt time.Time `bson:"claimed_at"`
	To        string    `bson:"to"`
}

// sentDoc marks an e-mail the SMTP server accepted.
type sentDoc struct {
	ID     string    `bson:"_id"`
	SentAt time.Time `bson:"sent_at"`
	To     string    `bson:"to"`
}

// ClaimResult is what Claim found.
type ClaimResult int

const (
	ClaimOwned ClaimResult = iota // we own it: send, then markSent or release
	ClaimDone                     // already sent: ack without sending
	ClaimBusy                     // another worker holds a live claim: try again later
)

// Claim is an owned claim: Claim returns it, MarkSent or Release settle it.
type Claim struct {
	key string
	gen int
}

// Store is the notifier's MongoDB access: the claims that send each event's e-mail once. It
// is safe for concurrent use.
type Store struct {
	coll   *mongo.Collection
	sent   *mongo.Collection
	leases *mongo.Collection
	lease  time.Duration
	// Now is the clock of the claims and their expiry (time.Now).
	Now func() time.Time

	// The hot path's two inserts go through batchers (insertbatch.go); Run starts them.
	claimInserts *inserter
	sentInserts  *inserter
}

// New returns the Store on the notifier's database db: a claim not settled within lease may
// be retaken, and inserts go to the server in batches of at most maxBatch.
func New(db *mongo.Database, lease time.Duration, maxBatch int) *Store {
	c := &Store{
		coll:   db.Collection("email_claims"),
		sent:   db.Collection("email_sent"),
		leases: db.Collection("email_claim_leases"),
		lease:  lease,
		Now:    time.Now,
	}
	c.claimInserts = newInserter(c.coll, maxBatch)
	c.sentInserts = newInserter(c.sent, maxBatch)
	return c
}

// Run serves the insert batchers until stop is closed.
func (c *Store) Run(stop <-chan struct{}) (wait func()) {
	var wg sync.WaitGroup
	wg.Go(func() { c.claimInserts.run(stop) })
	wg.Go(func() { c.sentInserts.run(stop) })
	return wg.Wait
}

// Expiring lists the dedup documents, which expire after retention: the dedup window.
// Redeliveries come within minutes; a month covers any replay an operator would do by hand.
func (c *Store) Expiring(retention time.Duration) []mongox.Expiring {
	return []mongox.Expiring{
		{Coll: c.coll, Field: fieldClaimedAt, After: retention},
		{Coll: c.leases, Field: fieldClaimedAt, After: retention},
		{Coll: c.sent, Field: fieldSentAt, After: retention},
	}
}

// EnsureIndexes makes the dedup documents expire after retention. It reports false if the
// server has no TTL indexes (FerretDB v1): then the notifier deletes them itself.
func (c *Store) EnsureIndexes(ctx context.Context, retention time.Duration) (ttl bool, err error) {
	return mongox.EnsureExpiries(ctx, c.Expiring(retention))
}

// Claim tries to become the one worker that sends the e-mail key to to.
func (c *Store) Claim(ctx context.Context, key, to string) (Claim, ClaimResult, error) {
	now := c.Now().UTC()
	err := c.claimInserts.insert(ctx, claimDoc{ID: key, Status: claimPending, ClaimedAt: now, To: to})
	if err == nil {
		return Claim{key: key}, ClaimOwned, nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return Claim{}, 0, fmt.Errorf("insert claim %s: %w", key, err)
	}

	err = c.sent.FindOne(ctx, bson.D{{Key: mongox.FieldID, Value: key}}).Err()
	if err == nil {
		return Claim{}, ClaimDone, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return Claim{}, 0, fmt.Errorf("read sent marker %s: %w", key, err)
	}
	var doc claimDoc
	if err := c.coll.FindOne(ctx, bson.D{{Key: mongox.FieldID, Value: key}}).Decode(&doc); err != nil {
		// Deleted in between (TTL): the next attempt inserts afresh.
		return Claim{}, 0, fmt.Errorf("read claim %s: %w", key, err)
	}
	switch {
	case doc.Status == claimPending && now.Sub(doc.ClaimedAt) < c.lease:
		return Claim{}, ClaimBusy, nil
	}

	// Released, or pending past its lease: race for the next generation by insert.
	next := doc.Gen + 1
	_, err = c.leases.InsertOne(ctx, bson.D{
		{Key: mongox.FieldID, Value: key + "#" + strconv.Itoa(next)},
		{Key: fieldClaimedAt, Value: now},
	})
	if mongo.IsDuplicateKeyError(err) {
		return Claim{}, ClaimBusy, nil
	}
	if err != nil {
		return Claim{}, 0, fmt.Errorf("insert lease %s#%d: %w", key, next, err)
	}
	_, err = c.coll.UpdateByID(ctx, key, bson.D{{Key: "$set", Value: bson.D{
		{Key: fieldStatus, Value: claimPending},
		{Key: fieldGen, Value: next},
		{Key: fieldClaimedAt, Value: now},
	}}})
	if err != nil {
		return Claim{}, 0, fmt.Errorf("take over claim %s: %w", key, err)
	}
	return Claim{key: key, gen: next}, ClaimOwned, nil
}

// MarkSent records that the server accepted the e-mail. It is unconditional: once the
// mail went out, "sent" is the truth whoever holds the claim now (a marker already there
// means a former owner got the same mail out, and is not an error).
func (c *Store) MarkSent(ctx context.Context, cl Claim, to string) error {
	err := c.sentInserts.insert(ctx, sentDoc{ID: cl.key, SentAt: c.Now().UTC(), To: to})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("mark %s sent: %w", cl.key, err)
	}
	return nil
}

// Release gives up a claim whose send failed, so the retry can take it at once. The gen
// filter keeps a slow former owner from releasing a newer generation's claim.
func (c *Store) Release(ctx context.Context, cl Claim) error {
	_, err := c.coll.UpdateOne(ctx,
		bson.D{{Key: mongox.FieldID, Value: cl.key}, {Key: fieldGen, Value: cl.gen}, {Key: fieldStatus, Value: claimPending}},
		bson.D{{Key: "$set", Value: bson.D{{Key: fieldStatus, Value: claimReleased}}}})
	if err != nil {
		return fmt.Errorf("release claim %s: %w", cl.key, err)
	}
	return nil
}
