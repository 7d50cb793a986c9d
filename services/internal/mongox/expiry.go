package mongox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Documents that expire (refresh tokens, e-mail claims) are deleted by the server through a
// TTL index on MongoDB. FerretDB v1 refuses TTL indexes (NotImplemented), so there the
// service deletes them itself: EnsureExpiry says which case it is, and Purger does the
// deleting. Without it, such collections would grow for ever on FerretDB.

// codeNotImplemented is the server's error code for an unsupported feature.
const codeNotImplemented = 238

// EnsureExpiry makes the server delete coll's documents once their time field is more than
// after in the past: a TTL index named field+"_ttl". It reports false if the server has no
// TTL indexes; then it creates a plain index named field instead, which makes the caller's
// own deletes (Purger) cheap where indexes are used.
func EnsureExpiry(ctx context.Context, coll *mongo.Collection, field string, after time.Duration) (ttl bool, err error) {
	_, err = coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: field, Value: 1}},
		Options: options.Index().SetExpireAfterSeconds(int32(after / time.Second)).SetName(field + "_ttl"),
	})
	var ce mongo.CommandError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ce) && (ce.Code == codeNotImplemented || ce.Name == "NotImplemented"):
		_, err = coll.Indexes().CreateOne(ctx, mongo.IndexModel{
			Keys: bson.D{{Key: field, Value: 1}}, Options: options.Index().SetName(field),
		})
		if err != nil {
			return false, fmt.Errorf("create expiry index on %s.%s: %w", coll.Name(), field, err)
		}
		return false, nil
	default:
		return false, fmt.Errorf("create TTL index on %s.%s: %w", coll.Name(), field, err)
	}
}

// Expiring is one collection whose documents expire after After past their Field.
type Expiring struct {
	Coll  *mongo.Collection
	Field string
	After time.Duration
}

// EnsureExpiries runs EnsureExpiry on every set, stopping at the first error. It reports
// whether the server deletes them all itself (TTL indexes); false means Purger must.
func EnsureExpiries(ctx context.Context, sets []Expiring) (ttl bool, err error) {
	ttl = true
	for _, e := range sets {
		ok, err := EnsureExpiry(ctx, e.Coll, e.Field, e.After)
		if err != nil {
			return false, err
		}
		ttl = ttl && ok
	}
	return ttl, nil
}

// Purger deletes expired documents where the server does not (see EnsureExpiry).
type Purger struct {
	Sets []Expiring
	Now  func() time.Time // time.Now when nil
}

// Purge deletes the documents of every set that have expired by now.
func (p Purger) Purge(ctx context.Context) error {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	for _, s := range p.Sets {
		cutoff := now().UTC().Add(-s.After)
		if _, err := s.Coll.DeleteMany(ctx, bson.D{{Key: s.Field, Value: bson.D{{Key: "$lt", Value: cutoff}}}}); err != nil {
			return fmt.Errorf("purge expired %s: %w", s.Coll.Name(), err)
		}
	}
	return nil
}

// Run purges every interval until ctx is done, each round bounded by a minute. Failures
// are logged and retried at the next round: expired documents only wait longer.
func (p Purger) Run(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, time.Minute)
			if err := p.Purge(pctx); err != nil {
				log.Warn("purge expired documents", "err", err)
			}
			cancel()
		}
	}
}
