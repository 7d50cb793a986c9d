package store

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// newItemDoc writes by hand what bson.Marshal(Item) would: decoded, it is the same item.
func TestNewItemDoc_DecodesAsTheItem(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	want := Item{
		Owner: "seller", OwnerID: "65f1c0ffee0123456789abcd", OwnerEmail: "seller@example.com", Name: "lamp «ünïcode»", Price: 12.5,
		Status: StatusAvailable, EventID: "ev-1", CreatedAt: now, UpdatedAt: now.Add(time.Second),
		TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", TraceState: "shop=1",
	}
	var got Item
	if err := bson.Unmarshal(newItemDoc(&want), &got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("decoded %+v, want %+v", got, want)
	}
	// And it has the same fields as the reflected encoding, minus the _id the driver adds.
	reflected, err := bson.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var a, b bson.M
	if err := bson.Unmarshal(reflected, &a); err != nil {
		t.Fatal(err)
	}
	if err := bson.Unmarshal(newItemDoc(&want), &b); err != nil {
		t.Fatal(err)
	}
	delete(a, "_id")
	if len(a) != len(b) {
		t.Fatalf("fields %v, want %v", b, a)
	}
	for k, v := range a {
		if b[k] != v {
			t.Errorf("field %s = %v (%T), want %v (%T)", k, b[k], b[k], v, v)
		}
	}
}
