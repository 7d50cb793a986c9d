package store_test

import (
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"littleecom.io/littleecom/services/backend/store"
)

// WithoutSecondaryIndexes (FerretDB) drops the indexes an earlier start made, leaves the
// collections in place (empty ones too) and changes nothing the queries answer.
func TestEnsureIndexes_WithoutSecondaryIndexes(t *testing.T) {
	s, db := newStore(t) // with the secondary indexes, as a MongoDB start made them
	ctx := testCtx(t)
	if names := indexNames(t, db.Collection(store.CollItems)); len(names) < 2 {
		t.Fatalf("items indexes before: %v, want the secondary ones too", names)
	}
	it, err := s.CreateItem(ctx, acct("seller@example.com"), "lamp", 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Buy(ctx, it.ID, acct("buyer@example.com")); err != nil {
		t.Fatal(err)
	}
	kept, err := s.CreateItem(ctx, acct("seller@example.com"), "chair", 4)
	if err != nil {
		t.Fatal(err)
	}

	bare := store.New(db, store.WithoutSecondaryIndexes())
	for range 2 { // idempotent
		if err := bare.EnsureIndexes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, coll := range []string{store.CollItems, store.CollOrders, store.CollPublished} {
		if names := indexNames(t, db.Collection(coll)); !slices.Equal(names, []string{"_id_"}) {
			t.Errorf("%s indexes: %v, want _id_ alone", coll, names)
		}
	}
	listed, err := bare.ListItems(ctx, "", store.Page{Limit: 10})
	if err != nil || len(listed) != 1 || listed[0].ID != kept.ID {
		t.Errorf("listing: %v, %v; want the unsold item alone", listed, err)
	}
	orders, err := bare.ListOrders(ctx, acct("buyer@example.com"), store.Page{Limit: 10})
	if err != nil || len(orders) != 1 || orders[0].ItemID != it.ID {
		t.Errorf("orders: %v, %v", orders, err)
	}

	// A fresh database gets its collections, without secondary indexes.
	fresh := db.Client().Database("fresh")
	if err := store.New(fresh, store.WithoutSecondaryIndexes()).EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	colls, err := fresh.ListCollectionNames(ctx, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{store.CollItems, store.CollOrders, store.CollPublished, store.CollRelay} {
		if !slices.Contains(colls, want) {
			t.Errorf("fresh database collections %v lack %s", colls, want)
		}
	}
}

func indexNames(t *testing.T, coll *mongo.Collection) []string {
	t.Helper()
	specs, err := coll.Indexes().ListSpecifications(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}
