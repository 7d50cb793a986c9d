package backend

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/services/backend/store"
	"littleecom.io/littleecom/services/internal/httpx"
)

func TestAppendItems_SameAsEncodingJSON(t *testing.T) {
	names := []string{"", "lamp", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnew\nline\x01",
		"café ☕", "\u2028\u2029", "bad utf8 \xff\xfe", "emoji 🛒"}
	prices := []float64{1, 12.5, 0.1, 1e-7, 123456789, 1e21, 1e20, 3.14159265358979, math.SmallestNonzeroFloat64, 99.99}
	var items []store.Item
	for i, n := range names {
		items = append(items, store.Item{ID: bson.NewObjectID(), Owner: n, Name: names[len(names)-1-i], Price: prices[i%len(prices)]})
	}
	for i, p := range prices {
		items = append(items, store.Item{ID: bson.NewObjectID(), Owner: "o", Name: names[i%len(names)], Price: p})
	}
	for _, list := range [][]store.Item{nil, items[:1], items} {
		want := make([]itemJSON, len(list))
		for i, it := range list {
			want[i] = toItemJSON(it)
		}
		wb, _ := json.Marshal(want)
		got := appendItems(nil, list)
		if string(got) != string(wb)+"\n" {
			t.Errorf("appendItems:\n got %s\nwant %s", got, wb)
		}
	}
}

func TestWriteItem_SameAsWriteJSON(t *testing.T) {
	for _, it := range []store.Item{
		{ID: bson.NewObjectID(), Owner: "o", Name: "lamp", Price: 12.5},
		{ID: bson.NewObjectID(), Owner: "<b>&amp;</b>", Name: "café ☕\u2028", Price: 1e-7},
	} {
		got, want := httptest.NewRecorder(), httptest.NewRecorder()
		writeItem(got, it)
		httpx.WriteJSON(want, http.StatusOK, toItemJSON(it))
		if got.Code != want.Code || !reflect.DeepEqual(got.Header(), want.Header()) || got.Body.String() != want.Body.String() {
			t.Errorf("writeItem: %d %v %q, want %d %v %q",
				got.Code, got.Header(), got.Body, want.Code, want.Header(), want.Body)
		}
	}
}
