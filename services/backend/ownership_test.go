package backend_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/backend"
	"littleecom.io/littleecom/services/internal/accountdeletion"
)

// The attacker of the issue: an account whose address is a look-alike of a seller's
// (U+017F, long s, which Unicode case folding takes to "s"). Auth no longer makes such an
// account; a token one got before is refused, and an account of the same address with
// another id (what a look-alike became under case folding) owns nothing.
func TestOwnership_LookAlikeOwnsNothing(t *testing.T) {
	s := newShop(t)
	id := s.AddItem("sam@shop.example", "lamp", 5)
	lookalike := s.TokenFor(bson.NewObjectID().Hex(), "ſam@shop.example")
	for _, route := range []struct{ method, body string }{{"PUT", `{"name":"mine","price":1}`}, {"DELETE", ""}} {
		if r := s.Do(route.method, "/item/"+id, lookalike, route.body); r.Status != http.StatusUnauthorized {
			t.Errorf("%s by the look-alike's token = %d, want 401", route.method, r.Status)
		}
	}
	if r := s.Do("POST", "/item", lookalike, `{"name":"x","price":1}`); r.Status != http.StatusUnauthorized {
		t.Errorf("listing with the look-alike's token = %d, want 401", r.Status)
	}
	// Same address, another account: ownership is the account's, not the address's.
	other := s.TokenFor(bson.NewObjectID().Hex(), "sam@shop.example")
	if r := s.Do("PUT", "/item/"+id, other, `{"name":"mine","price":1}`); r.Status != http.StatusForbidden {
		t.Errorf("PUT by another account of the same address = %d, want 403", r.Status)
	}
	if r := s.Do("DELETE", "/item/"+id, other, ""); r.Status != http.StatusForbidden {
		t.Errorf("DELETE by another account of the same address = %d, want 403", r.Status)
	}
	if r := s.Do("PUT", "/item/"+id, s.Token("sam@shop.example"), `{"name":"big lamp","price":6}`); r.Status != http.StatusOK {
		t.Errorf("PUT by the seller = %d %s", r.Status, r.Body)
	}
	if r := s.Do("GET", "/item/"+id, "", ""); !strings.Contains(r.Body, `"owner":"sam","name":"big lamp"`) {
		t.Errorf("item = %s", r.Body)
	}
}

// legacy documents are what the previous version wrote: owners by address only.
func seedLegacy(t testing.TB, items []bson.D, orders []bson.D) shopOption {
	return func(c *backend.Config) {
		client, err := mongo.Connect(options.Client().ApplyURI(c.Mongo.URI))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = client.Disconnect(context.Background()) }()
		db := client.Database(c.Mongo.Database)
		for _, d := range items {
			if _, err := db.Collection("items").InsertOne(context.Background(), d); err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range orders {
			if _, err := db.Collection("orders").InsertOne(context.Background(), d); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func legacyItem(id bson.ObjectID, email, name string, at time.Time) bson.D {
	return bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: strings.Split(email, "@")[0]}, {Key: "owner_email", Value: email},
		{Key: "name", Value: name}, {Key: "price", Value: 3.0}, {Key: "status", Value: "available"},
		{Key: "event_id", Value: "ev-" + id.Hex()}, {Key: "created_at", Value: at}, {Key: "updated_at", Value: at}}
}

func legacyOrder(id bson.ObjectID, buyer, seller string, at time.Time) bson.D {
	return bson.D{{Key: "_id", Value: id}, {Key: "buyer_email", Value: buyer}, {Key: "seller_email", Value: seller},
		{Key: "seller", Value: strings.Split(seller, "@")[0]}, {Key: "name", Value: "old lamp"}, {Key: "price", Value: 2.0},
		{Key: "event_id", Value: "buy-" + id.Hex()}, {Key: "bought_at", Value: at}}
}

// accountAt is an account id made at, as auth makes them (ObjectIDs carry their second).
func accountAt(at time.Time) string {
	id := bson.NewObjectIDFromTimestamp(at)
	return id.Hex()
}

// Items and orders written before owners were account ids are migrated at start: they keep
// belonging to the account that had the address when they were written, and to no account
// made later with the same address (the recycled address of the issue).
func TestOwnership_LegacyDocumentsAreMigratedAtStart(t *testing.T) {
	day := time.Hour * 24
	listed := time.Now().Add(-10 * day).UTC().Truncate(time.Millisecond)
	item, order, lookalikeItem := bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()
	s := newShop(t, seedLegacy(t,
		[]bson.D{legacyItem(item, "sam@shop.example", "old chair", listed), legacyItem(lookalikeItem, "ſam@shop.example", "fake", listed)},
		[]bson.D{legacyOrder(order, "sam@shop.example", "ann@shop.example", listed)}))

	var doc struct {
		OwnerID string `bson:"owner_id"`
	}
	if err := s.DB.Collection("items").FindOne(t.Context(), bson.D{{Key: "_id", Value: item}}).Decode(&doc); err != nil ||
		doc.OwnerID != "email:sam@shop.example" {
		t.Fatalf("migrated item: %+v %v", doc, err)
	}

	sam := s.TokenFor(accountAt(listed.Add(-day)), "sam@shop.example")     // had the address then
	newcomer := s.TokenFor(accountAt(listed.Add(day)), "sam@shop.example") // registered it later
	if r := s.Do("PUT", "/item/"+item.Hex(), newcomer, `{"name":"mine","price":1}`); r.Status != http.StatusForbidden {
		t.Errorf("the newcomer's PUT = %d, want 403", r.Status)
	}
	if r := s.Do("GET", "/orders", newcomer, ""); r.Status != 200 || r.Body != "[]\n" {
		t.Errorf("the newcomer's orders = %d %s, want []", r.Status, r.Body)
	}
	if r := s.Do("PUT", "/item/"+item.Hex(), sam, `{"name":"old chair","price":4}`); r.Status != http.StatusOK {
		t.Errorf("the seller's PUT = %d %s", r.Status, r.Body)
	}
	var orders []map[string]any
	r := s.Do("GET", "/orders", sam, "")
	if err := json.Unmarshal([]byte(r.Body), &orders); err != nil || len(orders) != 1 || orders[0]["item_id"] != order.Hex() {
		t.Errorf("the buyer's orders = %s (%v)", r.Body, err)
	}
	// The look-alike's old listing belongs to no one: no canonical address matches it.
	if r := s.Do("DELETE", "/item/"+lookalikeItem.Hex(), sam, ""); r.Status != http.StatusForbidden {
		t.Errorf("DELETE of the look-alike's old listing by sam = %d, want 403", r.Status)
	}
}

// The recycled address: after DELETE /auth/delete (auth's deletion record), the
// account's unsold listings leave the shop and its tokens stop working; its orders stay
// with it, out of reach of the next account with that address.
func TestDeletedAccount_ListingsGoTokensStopOrdersStay(t *testing.T) {
	s := newShop(t)
	const addr = "leaving@shop.example"
	unsold := s.AddItem(addr, "lamp", 5)
	sold := s.AddItem(addr, "chair", 7)
	if r := s.Do("POST", "/buy/"+sold, s.Token("buyer@shop.example"), ""); r.Status != 200 {
		t.Fatalf("buy: %d", r.Status)
	}
	bought := s.AddItem("other@shop.example", "vase", 3)
	if r := s.Do("POST", "/buy/"+bought, s.Token(addr), ""); r.Status != 200 {
		t.Fatalf("buy: %d", r.Status)
	}
	oldToken := s.Token(addr)

	// What auth's DELETE /auth/delete writes.
	now := time.Now().UTC()
	_, err := s.DB.Client().Database(contract.DatabaseAuth).Collection(contract.CollAccountDeletions).InsertOne(t.Context(),
		accountdeletion.Record{AccountID: s.AccountID(addr), Email: addr, DeletedAt: now, ExpiresAt: now.Add(accountdeletion.Retention)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return s.Do("GET", "/item/"+unsold, "", "").Status == http.StatusNotFound }, "the unsold listing taken down")
	if r := s.Do("GET", "/items/leaving", "", ""); r.Body != "[]\n" {
		t.Errorf("the deleted seller's listings: %s", r.Body)
	}
	if r := s.Do("POST", "/item", oldToken, `{"name":"ghost","price":1}`); r.Status != http.StatusUnauthorized {
		t.Errorf("a deleted account's token lists: %d, want 401", r.Status)
	}
	if r := s.Do("GET", "/orders", oldToken, ""); r.Status != http.StatusUnauthorized {
		t.Errorf("a deleted account's token reads orders: %d, want 401", r.Status)
	}
	// The buyer of the sold item keeps the order.
	if r := s.Do("GET", "/orders", s.Token("buyer@shop.example"), ""); !strings.Contains(r.Body, sold) {
		t.Errorf("the buyer's orders lost the sold item: %s", r.Body)
	}
	// Someone registers the address again: a new account, which sees nothing of the old.
	newcomer := s.TokenFor(bson.NewObjectID().Hex(), addr)
	if r := s.Do("GET", "/orders", newcomer, ""); r.Status != 200 || r.Body != "[]\n" {
		t.Errorf("the newcomer's orders = %d %s, want []", r.Status, r.Body)
	}
	if r := s.Do("PUT", "/item/"+unsold, newcomer, `{"name":"mine","price":1}`); r.Status != http.StatusNotFound {
		t.Errorf("the newcomer's PUT on the old listing = %d, want 404", r.Status)
	}
	if r := s.Do("POST", "/item", newcomer, `{"name":"fresh","price":1}`); r.Status != http.StatusCreated {
		t.Errorf("the newcomer lists: %d", r.Status)
	}
}
