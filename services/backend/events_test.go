package backend_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/backend"
	"littleecom.io/littleecom/services/backend/internal/backendtest"
	"littleecom.io/littleecom/services/internal/testinfra"
)

func TestEvents_OnePerSuccessfulWriteNoneForFailures(t *testing.T) {
	s := newShop(t)
	const seller, buyer = "seller@example.com", "buyer@example.com"
	id := s.AddItem(seller, "lamp", 12)

	// Failed writes of every kind.
	failures := []struct{ method, path, token, body string }{
		{"POST", "/item", s.Token(seller), `{"name":"","price":1}`},
		{"POST", "/item", s.Token(seller), `{"name":"x","price":0}`},
		{"POST", "/item", "", `{"name":"x","price":1}`},
		{"POST", "/buy/" + id, s.Token(seller), ""},
		{"POST", "/buy/" + bson.NewObjectID().Hex(), s.Token(buyer), ""},
	}
	for _, f := range failures {
		if r := s.Do(f.method, f.path, f.token, f.body); r.Status < 400 {
			t.Fatalf("%s %s = %d, expected a failure", f.method, f.path, r.Status)
		}
	}
	if r := s.Do("POST", "/buy/"+id, s.Token(buyer), ""); r.Status != 200 {
		t.Fatalf("buy = %d %s", r.Status, r.Body)
	}
	for range 3 { // losers of the race after the fact
		if r := s.Do("POST", "/buy/"+id, s.Token("late@example.com"), ""); r.Status != http.StatusConflict {
			t.Fatalf("late buy = %d", r.Status)
		}
	}

	added := backendtest.Drain(t, s.AMQPURL, contract.QueueItemAdded, 1, 10*time.Second)
	bought := backendtest.Drain(t, s.AMQPURL, contract.QueueItemBought, 1, 10*time.Second)
	if len(added) != 1 || len(bought) != 1 {
		t.Fatalf("got %d add and %d buy events, want exactly 1 each", len(added), len(bought))
	}
	// The original shop's fields, then ours.
	a := added[0].Event
	if a.Email != seller || a.Item != "lamp" || a.Price != 12 || a.ItemID != id || a.EventID == "" {
		t.Errorf("add event = %+v", a)
	}
	b := bought[0].Event
	if b.Email != buyer || b.Seller != seller || b.Item != "lamp" || b.ItemID != id || b.EventID == a.EventID {
		t.Errorf("buy event = %+v", b)
	}
	if _, err := time.Parse(time.RFC3339Nano, b.OccurredAt); err != nil {
		t.Errorf("occurred_at %q: %v", b.OccurredAt, err)
	}
	waitFor(t, func() bool { return s.pendingEvents() == 0 }, "published events recorded")
	waitFor(t, func() bool {
		return strings.Contains(s.Management("/metrics").Body,
			`littleecom_events_published_total{event="ecom.item.buy",service="backend"} 1`)
	}, "metrics count the buy event")
}

// Items added at the same moment share insert commands (group commit, store/insertbatch.go):
// each request still gets its own item, and each item exactly one add event.
func TestEvents_ConcurrentAddsEachGetTheirItemAndOneEvent(t *testing.T) {
	s := newShop(t)
	const sellers = 64
	tokens := s.Tokens("seller", sellers)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		idsOf = map[string]string{} // item id -> name
		bad   []string
	)
	start := make(chan struct{})
	for i := range sellers {
		wg.Go(func() {
			<-start
			name := fmt.Sprintf("item %d", i)
			r := s.Do("POST", "/item", tokens[i], fmt.Sprintf(`{"name":%q,"price":%d}`, name, i+1))
			mu.Lock()
			defer mu.Unlock()
			if r.Status != http.StatusCreated {
				bad = append(bad, fmt.Sprintf("%s: %d %s", name, r.Status, r.Body))
				return
			}
			if prev, dup := idsOf[r.Body]; dup {
				bad = append(bad, fmt.Sprintf("%s and %s both got id %s", prev, name, r.Body))
			}
			idsOf[r.Body] = name
		})
	}
	close(start)
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("adds failed: %v", bad)
	}
	for id, name := range idsOf {
		r := s.Do("GET", "/item/"+id, "", "")
		var it struct{ Name string }
		if err := json.Unmarshal([]byte(r.Body), &it); err != nil || it.Name != name {
			t.Fatalf("GET /item/%s = %d %s, want %q", id, r.Status, r.Body, name)
		}
	}
	added := backendtest.Drain(t, s.AMQPURL, contract.QueueItemAdded, sellers, 10*time.Second)
	seen := map[string]bool{}
	for _, m := range added {
		e := m.Event
		if idsOf[e.ItemID] != e.Item || seen[e.ItemID] {
			t.Fatalf("add event %+v: not the item's, or a second one for it", e)
		}
		seen[e.ItemID] = true
	}
	if len(seen) != sellers {
		t.Fatalf("%d add events for %d items", len(seen), sellers)
	}
}

func TestEvents_BrokerDownAtRequestTime(t *testing.T) {
	var proxy *testinfra.Proxy // not listening until Start: the broker is "down"
	s := newShop(t, func(c *backend.Config) {
		u, _ := url.Parse(c.AMQP.Conn.URL)
		proxy = testinfra.NewProxy(t, u.Host)
		u.Host = proxy.Addr
		c.AMQP.Conn.URL = u.String()
	})

	id := s.AddItem("seller@example.com", "lamp", 5) // 201 although RabbitMQ is unreachable
	if r := s.Do("POST", "/buy/"+id, s.Token("buyer@example.com"), ""); r.Status != 200 {
		t.Fatalf("buy while broker is down = %d", r.Status)
	}
	r := s.Management("/readyz")
	var rep struct{ Checks map[string]string }
	_ = json.Unmarshal([]byte(r.Body), &rep)
	var degraded struct{ Status string }
	_ = json.Unmarshal([]byte(r.Body), &degraded)
	// Still ready (requests work, events wait in the outbox), but the broker is reported.
	if r.Status != http.StatusOK || degraded.Status != "degraded" || rep.Checks["mongodb"] != "ok" || rep.Checks["rabbitmq"] == "ok" {
		t.Errorf("readyz while broker down = %d %s", r.Status, r.Body)
	}
	if n := s.pendingEvents(); n != 2 {
		t.Fatalf("documents hold %d events while the broker is down, want 2", n)
	}
	// Waiting events are the backend's business: no route shows them.
	for _, r := range []response{
		s.Do("GET", "/item/"+id, "", ""),
		s.Do("GET", "/items", "", ""),
		s.Do("GET", "/items/seller", "", ""),
		s.Do("GET", "/orders", s.Token("buyer@example.com"), ""),
	} {
		if r.Status != 200 && r.Status != 404 || strings.Contains(r.Body, "event_id") || strings.Contains(r.Body, "routing_key") {
			t.Errorf("a read shows a pending event: %d %s", r.Status, r.Body)
		}
	}

	proxy.Start()
	added := backendtest.Drain(t, s.AMQPURL, contract.QueueItemAdded, 1, 15*time.Second)
	bought := backendtest.Drain(t, s.AMQPURL, contract.QueueItemBought, 1, 15*time.Second)
	if len(added) != 1 || len(bought) != 1 || added[0].Event.ItemID != id || bought[0].Event.ItemID != id {
		t.Fatalf("after the broker returned: %d add, %d buy events", len(added), len(bought))
	}
	waitFor(t, func() bool { return strings.Contains(s.Management("/readyz").Body, `"status":"ok"`) }, "readyz ok after the broker returned")
}

// pendingEvents counts the events not recorded as published: those items carry (their add
// events) and orders carry (their buy events, and their items' add events, as a bought item
// leaves within seconds). The test is too short for the recovery checkpoint to forget
// records.
func (s *shop) pendingEvents() int {
	ids := func(coll string, fields ...string) map[string]bool {
		cur, err := s.DB.Collection(coll).Find(context.Background(), bson.D{})
		if err != nil {
			s.t.Fatalf("read %s: %v", coll, err)
		}
		var docs []bson.Raw
		if err := cur.All(context.Background(), &docs); err != nil {
			s.t.Fatalf("read %s: %v", coll, err)
		}
		out := map[string]bool{}
		for _, d := range docs {
			for _, f := range fields {
				if id, ok := d.Lookup(f).StringValueOK(); ok && id != "" {
					out[id] = true
				}
			}
		}
		return out
	}
	carried := ids("items", "event_id")
	maps.Copy(carried, ids("orders", "event_id", "item_event_id"))
	published := ids("events_published", "_id")
	n := 0
	for id := range carried {
		if !published[id] {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
