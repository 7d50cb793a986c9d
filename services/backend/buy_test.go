package backend_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/services/backend/store"
)

func TestBuy_Contract(t *testing.T) {
	s := newShop(t)
	const seller, buyer, late = "seller@example.com", "buyer@example.com", "late@example.com"
	id := s.AddItem(seller, "lamp", 7)
	gone := s.AddItem(seller, "chair", 8)
	if r := s.Do("DELETE", "/item/"+gone, s.Token(seller), ""); r.Status != 200 {
		t.Fatalf("delete: %d", r.Status)
	}

	tests := []struct {
		name, path, token string
		want              int
	}{
		{"no token", "/buy/" + id, "", 401},
		{"bad id", "/buy/zzz", s.Token(buyer), 400},
		{"own item", "/buy/" + id, s.Token(seller), 400},
		{"unknown", "/buy/" + bson.NewObjectID().Hex(), s.Token(buyer), 404},
		{"deleted", "/buy/" + gone, s.Token(buyer), 404},
		{"buy", "/buy/" + id, s.Token(buyer), 200},
		{"sold", "/buy/" + id, s.Token(late), 409},
		{"sold, same buyer again", "/buy/" + id, s.Token(buyer), 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Do("POST", tt.path, tt.token, "")
			if r.Status != tt.want {
				t.Fatalf("POST %s = %d %s, want %d", tt.path, r.Status, r.Body, tt.want)
			}
			if r.Status >= 400 {
				assertProblem(t, r)
			}
		})
	}

	// The sold item left the shop; the buyer has the order, the late buyer none.
	if r := s.Do("GET", "/item/"+id, "", ""); r.Status != http.StatusNotFound {
		t.Errorf("GET sold item = %d, want 404", r.Status)
	}
	if r := s.Do("GET", "/items", "", ""); r.Body != "[]\n" {
		t.Errorf("GET /items after the sale = %q, want []", r.Body)
	}
	r := s.Do("GET", "/orders", s.Token(buyer), "")
	var orders []map[string]any
	if err := json.Unmarshal([]byte(r.Body), &orders); err != nil || r.Status != 200 || len(orders) != 1 {
		t.Fatalf("GET /orders = %d %s", r.Status, r.Body)
	}
	if o := orders[0]; o["item_id"] != id || o["name"] != "lamp" || o["price"] != 7.0 || o["owner"] != "seller" {
		t.Errorf("order = %v", o)
	}
	// The bought item has left the items collection; the order stays.
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		t.Fatal(err)
	}
	count := func(coll string) int64 {
		n, err := s.DB.Collection(coll).CountDocuments(t.Context(), bson.D{{Key: "_id", Value: oid}})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count(store.CollItems) != 0 || count(store.CollOrders) != 1 {
		t.Errorf("after the buy: %d items, %d orders with its id; want the order alone", count(store.CollItems), count(store.CollOrders))
	}
	if r := s.Do("GET", "/orders", s.Token(late), ""); r.Status != 200 || r.Body != "[]\n" {
		t.Errorf("late buyer's orders = %d %q, want []", r.Status, r.Body)
	}
	if r := s.Do("GET", "/orders", "", ""); r.Status != http.StatusUnauthorized {
		t.Errorf("GET /orders without token = %d, want 401", r.Status)
	}
}

func TestBuy_ConcurrentBuyersOverHTTP(t *testing.T) {
	s := newShop(t)
	id := s.AddItem("seller@example.com", "last lamp", 99)

	const buyers = 60
	tokens := s.Tokens("buyer", buyers)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		status = map[int]int{}
	)
	start := make(chan struct{})
	for i := range buyers {
		wg.Go(func() {
			<-start
			r := s.Do("POST", "/buy/"+id, tokens[i], "")
			mu.Lock()
			status[r.Status]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	if status[200] != 1 || status[200]+status[409]+status[404] != buyers {
		t.Fatalf("statuses = %v, want exactly one 200 and the rest 409/404", status)
	}
	if n, _ := s.DB.Collection("orders").CountDocuments(t.Context(), bson.D{}); n != 1 {
		t.Errorf("orders = %d, want 1", n)
	}
}
