package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/services/internal/mongox"
)

// migrateBatch is how many documents one update command of MigrateOwners rewrites. FerretDB
// v1 stalls for tens of seconds on an update command of a hundred statements (measured: 50
// take 0.6 s, 100 time out after 30 s); 25 rewrite 300 items in 2.5 s on a busy machine.
const migrateBatch = 25

// Migrated counts what MigrateOwners rewrote.
type Migrated struct {
	Items, Orders int
}

// MigrateOwners gives every item and order written before owners were account ids its owner
// keys (account.go): an item's owner_id, an order's buyer_id and seller_id, made from the
// addresses they name ("email:<canonical address>"), and the addresses in canonical form.
//
// It is idempotent and safe to run on several replicas at once: it touches only documents
// found without the key, each by its _id, and every replica computes the same values from
// the same document. The backend runs it at start,
// before it serves, and again now and then (App), which catches the documents a replica of
// the previous version wrote during a rolling upgrade; until then an item without owner_id
// is judged by its address all the same (Item.ownerKey).
func (s *Store) MigrateOwners(ctx context.Context) (Migrated, error) {
	var m Migrated
	var err error
	// Cached items keep the owner fields they were read with: those migrated are forgotten.
	defer func() {
		if m.Items > 0 {
			s.itemsWritten()
		}
	}()
	m.Items, err = s.migrate(ctx, s.items, fieldOwnerID, func(raw bson.Raw) bson.D {
		email, _ := raw.Lookup(fieldOwnerEmail).StringValueOK()
		key := legacyKey(email)
		return bson.D{{Key: fieldOwnerID, Value: key}, {Key: fieldOwnerEmail, Value: key[len(legacyPrefix):]}}
	})
	if err != nil {
		return m, err
	}
	m.Orders, err = s.migrate(ctx, s.orders, fieldBuyerID, func(raw bson.Raw) bson.D {
		buyer, _ := raw.Lookup(fieldBuyerEmail).StringValueOK()
		seller, _ := raw.Lookup(fieldSellerMail).StringValueOK()
		bk, sk := legacyKey(buyer), legacyKey(seller)
		return bson.D{
			{Key: fieldBuyerID, Value: bk}, {Key: fieldBuyerEmail, Value: bk[len(legacyPrefix):]},
			{Key: fieldSellerID, Value: sk}, {Key: fieldSellerMail, Value: sk[len(legacyPrefix):]},
		}
	})
	return m, err
}

// migrate sets, on every document of coll without field, what set computes from it, a batch
// at a time: read up to migrateBatch such documents (one batch, no cursor left open: FerretDB
// on SQLite would hold its read open against our own writes), then update each by _id. It
// stops when none is left.
func (s *Store) migrate(ctx context.Context, coll *mongo.Collection, field string, set func(bson.Raw) bson.D) (int, error) {
	missing := bson.D{{Key: field, Value: bson.D{{Key: opExists, Value: false}}}}
	done := 0
	for {
		docs, err := read(ctx, s, func() ([]bson.Raw, error) {
			cur, err := coll.Find(ctx, missing, options.Find().SetLimit(migrateBatch).SetBatchSize(migrateBatch))
			if err != nil {
				return nil, err
			}
			return decodeAll[bson.Raw](ctx, cur)
		})
		if err != nil {
			return done, fmt.Errorf("find %s to migrate: %w", coll.Name(), err)
		}
		batch := make([]mongo.WriteModel, 0, len(docs))
		for _, doc := range docs {
			// By _id alone, the one filter FerretDB answers from its index. Setting the key
			// again is harmless: every replica computes the same values from the document.
			if id, ok := doc.Lookup(mongox.FieldID).ObjectIDOK(); ok {
				batch = append(batch, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: mongox.FieldID, Value: id}}).
					SetUpdate(bson.D{{Key: opSet, Value: set(doc)}}))
			}
		}
		if len(batch) == 0 {
			return done, nil
		}
		res, err := write(ctx, s, func() (*mongo.BulkWriteResult, error) {
			return coll.BulkWrite(ctx, batch, options.BulkWrite().SetOrdered(false))
		})
		if err != nil {
			return done, fmt.Errorf("migrate %s: %w", coll.Name(), err)
		}
		done += int(res.ModifiedCount)
		if res.MatchedCount == 0 {
			return done, nil // gone meanwhile; never loop on documents that cannot change
		}
	}
}
