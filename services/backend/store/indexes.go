package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"littleecom.io/littleecom/services/internal/mongox"
)

// WithoutSecondaryIndexes is for FerretDB v1 on SQLite: it answers every query but an _id
// lookup by reading the whole collection, whatever indexes exist, so secondary indexes
// only cost every write their upkeep (an update rewrites the document's entry in each,
// parsing its JSON twice). A buy's update paid for six: docs/performance-backend.md.
// EnsureIndexes then drops the ones an earlier start created.
func WithoutSecondaryIndexes() Option { return func(s *Store) { s.noSecondaryIndexes = true } }

// indexSpec is an index the queries need on MongoDB.
type indexSpec struct {
	coll *mongo.Collection
	keys bson.D
}

func (s *Store) indexSpecs() []indexSpec {
	return []indexSpec{
		// Listings: available items in id order, for everyone or one owner.
		{s.items, bson.D{{Key: fieldStatus, Value: 1}, {Key: mongox.FieldID, Value: 1}}},
		{s.items, bson.D{{Key: fieldOwner, Value: 1}, {Key: fieldStatus, Value: 1}, {Key: mongox.FieldID, Value: 1}}},
		// A buyer's orders in id order.
		{s.orders, bson.D{{Key: fieldBuyerID, Value: 1}, {Key: mongox.FieldID, Value: 1}}},
		// A deleted account's listings (deletions.go) and the documents still to migrate.
		{s.items, bson.D{{Key: fieldOwnerID, Value: 1}}},
		// The relay's recovery reads the events since its checkpoint (PendingEvents) and
		// forgets older publication records.
		{s.items, bson.D{{Key: fieldCreatedAt, Value: 1}}},
		{s.orders, bson.D{{Key: fieldBoughtAt, Value: 1}}},
		{s.published, bson.D{{Key: fieldCreatedAt, Value: 1}}},
	}
}

// EnsureIndexes creates the indexes the queries need (or, WithoutSecondaryIndexes, the
// collections alone, so that they exist before the first request) and, the first time,
// the relay's recovery checkpoint. It is idempotent and runs at start.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	if s.noSecondaryIndexes {
		if err := s.dropSecondaryIndexes(ctx); err != nil {
			return err
		}
		return s.startCheckpoint(ctx)
	}
	for _, spec := range s.indexSpecs() {
		if _, err := spec.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: spec.keys}); err != nil {
			return fmt.Errorf("create index on %s: %w", spec.coll.Name(), err)
		}
	}
	return s.startCheckpoint(ctx)
}

// dropSecondaryIndexes makes each collection and drops the indexes of indexSpecs in it.
func (s *Store) dropSecondaryIndexes(ctx context.Context) error {
	ours := map[string]map[string]bool{} // collection -> index names
	for _, spec := range s.indexSpecs() {
		name, err := indexName(spec.keys)
		if err != nil {
			return err
		}
		if ours[spec.coll.Name()] == nil {
			ours[spec.coll.Name()] = map[string]bool{}
		}
		ours[spec.coll.Name()][name] = true
	}
	for _, coll := range []*mongo.Collection{s.items, s.orders, s.published} {
		err := coll.Database().CreateCollection(ctx, coll.Name())
		var ce mongo.CommandError
		if err != nil && (!errors.As(err, &ce) || ce.Code != codeNamespaceExists) {
			return fmt.Errorf("create collection %s: %w", coll.Name(), err)
		}
		specs, err := coll.Indexes().ListSpecifications(ctx)
		if err != nil {
			return fmt.Errorf("list indexes of %s: %w", coll.Name(), err)
		}
		for _, spec := range specs {
			if !ours[coll.Name()][spec.Name] {
				continue
			}
			if err := coll.Indexes().DropOne(ctx, spec.Name); err != nil {
				return fmt.Errorf("drop index %s of %s: %w", spec.Name, coll.Name(), err)
			}
		}
	}
	return nil
}

// codeNamespaceExists is the server's error code for creating a collection that exists.
const codeNamespaceExists = 48

// indexName is the name the server gives an index of keys when none is set: each key and
// its direction, joined by underscores ("status_1__id_1").
func indexName(keys bson.D) (string, error) {
	parts := make([]string, len(keys))
	for i, k := range keys {
		v, ok := k.Value.(int)
		if !ok {
			return "", fmt.Errorf("index key %s: direction %v is not an int", k.Key, k.Value)
		}
		parts[i] = fmt.Sprintf("%s_%d", k.Key, v)
	}
	return strings.Join(parts, "_"), nil
}
