package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/services/internal/accountdeletion"
)

// WithAccountDeletions sets where auth records deleted accounts (accountdeletion.Collection).
func WithAccountDeletions(coll *mongo.Collection) Option {
	return func(s *Store) { s.deletions = coll }
}

// errNoDeletions means the store was made without WithAccountDeletions.
var errNoDeletions = errors.New("no account-deletion records configured")

// DeletedAccounts returns the deletions auth recorded at or after since, oldest first.
func (s *Store) DeletedAccounts(ctx context.Context, since time.Time) ([]accountdeletion.Record, error) {
	if s.deletions == nil {
		return nil, errNoDeletions
	}
	recs, err := read(ctx, s, func() ([]accountdeletion.Record, error) {
		cur, err := s.deletions.Find(ctx,
			bson.D{{Key: accountdeletion.FieldDeletedAt, Value: bson.D{{Key: opGte, Value: since}}}},
			options.Find().SetSort(bson.D{{Key: accountdeletion.FieldDeletedAt, Value: 1}}))
		if err != nil {
			return nil, err
		}
		return decodeAll[accountdeletion.Record](ctx, cur)
	})
	if err != nil {
		return nil, fmt.Errorf("read account deletions: %w", err)
	}
	return recs, nil
}

// TakeDownListings takes the unsold listings of deleted accounts off sale: those they listed
// (owner_id = the account id), and those listed by their address before owners were account
// ids. It marks them deleted, as DeleteItem does, and reports how many.
func (s *Store) TakeDownListings(ctx context.Context, recs []accountdeletion.Record) (int64, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	keys := make(bson.A, 0, 2*len(recs))
	for _, r := range recs {
		keys = append(keys, r.AccountID, legacyKey(r.Email))
	}
	// Which items change is known only to the database: every cached one goes.
	defer s.itemsWritten()
	res, err := write(ctx, s, func() (*mongo.UpdateResult, error) {
		return s.items.UpdateMany(ctx,
			bson.D{{Key: fieldOwnerID, Value: bson.D{{Key: opIn, Value: keys}}}, {Key: fieldStatus, Value: StatusAvailable}},
			bson.D{{Key: opSet, Value: bson.D{{Key: fieldStatus, Value: StatusDeleted}, {Key: fieldUpdatedAt, Value: s.now().UTC()}}}})
	})
	if err != nil {
		return 0, fmt.Errorf("take down the listings of %d deleted accounts: %w", len(recs), err)
	}
	return res.ModifiedCount, nil
}
