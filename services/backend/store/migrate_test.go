package store_test

import (
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/services/backend/store"
)

// The owner migration is idempotent and safe with several replicas running it at once; it
// leaves new documents alone; what it writes gives old documents to the account that had
// the address then, and to no account made later.
func TestMigrateOwners(t *testing.T) {
	s, db := newStore(t)
	replica := store.New(db)
	ctx := testCtx(t)
	listed := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Millisecond)
	var legacyItems []any
	for i := range 300 { // more than one batch
		legacyItems = append(legacyItems, bson.D{{Key: "owner", Value: "sam"}, {Key: "owner_email", Value: "Sam@Shop.example"},
			{Key: "name", Value: "chair"}, {Key: "price", Value: float64(i + 1)}, {Key: "status", Value: "available"},
			{Key: "created_at", Value: listed}, {Key: "updated_at", Value: listed}})
	}
	legacyItems = append(legacyItems, bson.D{{Key: "owner", Value: "ſam"}, {Key: "owner_email", Value: "ſam@shop.example"},
		{Key: "name", Value: "fake"}, {Key: "price", Value: 1.0}, {Key: "status", Value: "available"}, {Key: "created_at", Value: listed}})
	if _, err := db.Collection(store.CollItems).InsertMany(ctx, legacyItems); err != nil {
		t.Fatal(err)
	}
	orderID := bson.NewObjectID()
	if _, err := db.Collection(store.CollOrders).InsertOne(ctx, bson.D{{Key: "_id", Value: orderID},
		{Key: "buyer_email", Value: "sam@shop.example"}, {Key: "seller_email", Value: "ann@shop.example"},
		{Key: "seller", Value: "ann"}, {Key: "name", Value: "lamp"}, {Key: "price", Value: 2.0}, {Key: "bought_at", Value: listed}}); err != nil {
		t.Fatal(err)
	}
	ann := store.NewAccount(bson.NewObjectIDFromTimestamp(listed.Add(-time.Hour)).Hex(), "ann@shop.example")
	fresh, err := s.CreateItem(ctx, ann, "new lamp", 4)
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	results := make([]store.Migrated, 2)
	for i, st := range []*store.Store{s, replica} {
		wg.Go(func() {
			m, err := st.MigrateOwners(ctx)
			if err != nil {
				t.Error(err)
			}
			results[i] = m
		})
	}
	wg.Wait()
	if total := results[0].Items + results[1].Items; total < 301 || total > 602 {
		t.Errorf("items migrated by the two replicas: %+v", results)
	}
	if m, err := s.MigrateOwners(ctx); err != nil || m != (store.Migrated{}) {
		t.Errorf("a second run migrated %+v (%v), want nothing", m, err)
	}
	for key, want := range map[string]int64{"email:sam@shop.example": 300, "email:ſam@shop.example": 1, ann.ID: 1} {
		if n, _ := db.Collection(store.CollItems).CountDocuments(ctx, bson.D{{Key: "owner_id", Value: key}}); n != want {
			t.Errorf("items with owner_id %q: %d, want %d", key, n, want)
		}
	}
	if n, _ := db.Collection(store.CollItems).CountDocuments(ctx, bson.D{{Key: "owner_email", Value: "sam@shop.example"}}); n != 300 {
		t.Errorf("owner_email canonical on %d items, want 300", n)
	}
	if n, _ := db.Collection(store.CollOrders).CountDocuments(ctx, bson.D{{Key: "buyer_id", Value: "email:sam@shop.example"},
		{Key: "seller_id", Value: "email:ann@shop.example"}}); n != 1 {
		t.Errorf("the order was not migrated")
	}

	var chair store.Item
	if err := db.Collection(store.CollItems).FindOne(ctx, bson.D{{Key: "owner_email", Value: "sam@shop.example"}}).Decode(&chair); err != nil {
		t.Fatal(err)
	}
	sam := store.NewAccount(bson.NewObjectIDFromTimestamp(listed.Add(-time.Hour)).Hex(), "sam@shop.example")
	newcomer := store.NewAccount(bson.NewObjectIDFromTimestamp(listed.Add(time.Hour)).Hex(), "sam@shop.example")
	if _, err := s.UpdateItem(ctx, chair.ID, newcomer, "mine", 1); err != store.ErrForbidden {
		t.Errorf("the newcomer updates the old chair: %v, want ErrForbidden", err)
	}
	if _, err := s.UpdateItem(ctx, chair.ID, sam, "chair", 5); err != nil {
		t.Errorf("sam updates the chair: %v", err)
	}
	if _, err := s.UpdateItem(ctx, fresh.ID, sam, "x", 1); err != store.ErrForbidden {
		t.Errorf("sam updates ann's new item: %v", err)
	}
	for who, want := range map[store.Account]int{sam: 1, newcomer: 0, ann: 0} {
		orders, err := s.ListOrders(ctx, who, store.Page{Limit: 10})
		if err != nil || len(orders) != want {
			t.Errorf("%s's orders: %d (%v), want %d", who.ID, len(orders), err, want)
		}
	}
}
