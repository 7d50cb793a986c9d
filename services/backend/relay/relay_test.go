package relay_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/backend/internal/backendtest"
	"littleecom.io/littleecom/services/backend/relay"
	"littleecom.io/littleecom/services/backend/store"
	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/testinfra"
)

func newStore(t *testing.T, opts ...store.Option) *store.Store {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(testinfra.StartFerretDB(t)).SetMaxPoolSize(16))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	s := store.New(client.Database(contract.DatabaseBackend), opts...)
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// startRelay runs a relay until the test ends and returns it with the count of published
// events by routing key.
func startRelay(t *testing.T, s *store.Store, amqpURL string) (*relay.Relay, func(string) int) {
	t.Helper()
	return startRelayWith(t, s, relay.Config{Conn: amqpx.Config{URL: amqpURL, ReconnectMax: 300 * time.Millisecond}})
}

func startRelayWith(t *testing.T, s *store.Store, cfg relay.Config) (*relay.Relay, func(string) int) {
	t.Helper()
	var mu sync.Mutex
	counts := map[string]int{}
	r := relay.New(s, cfg,
		slog.New(slog.NewTextHandler(io.Discard, nil)),
		relay.Hooks{Published: func(k string) { mu.Lock(); counts[k]++; mu.Unlock() }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return r, func(k string) int { mu.Lock(); defer mu.Unlock(); return counts[k] }
}

func TestRelay_PublishesAddAndBuyPersistently(t *testing.T) {
	vhost := testinfra.AMQPVHost(t)
	var r *relay.Relay
	s := newStore(t, store.WithEventHook(func(e store.Event) { r.Enqueue(e) }))
	r, published := startRelay(t, s, vhost)
	ctx := context.Background()

	it, err := s.CreateItem(ctx, acct("seller@example.com"), "lamp", 9.5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Buy(ctx, it.ID, acct("buyer@example.com")); err != nil {
		t.Fatal(err)
	}

	added := backendtest.Drain(t, vhost, contract.QueueItemAdded, 1, 10*time.Second)
	bought := backendtest.Drain(t, vhost, contract.QueueItemBought, 1, 10*time.Second)
	if len(added) != 1 || len(bought) != 1 {
		t.Fatalf("added %d, bought %d messages; want 1 each", len(added), len(bought))
	}
	a, b := added[0], bought[0]
	if !a.Persistent || !b.Persistent {
		t.Error("messages are not persistent")
	}
	if a.Event.Email != "seller@example.com" || a.Event.Item != "lamp" || a.Event.Price != 9.5 ||
		a.Event.ItemID != it.ID.Hex() || a.Event.EventID != it.EventID || a.MessageID != it.EventID {
		t.Errorf("add event = %+v", a)
	}
	if b.Event.Email != "buyer@example.com" || b.Event.Seller != "seller@example.com" ||
		b.Event.ItemID != it.ID.Hex() || b.Event.EventID == "" || b.Event.OccurredAt == "" {
		t.Errorf("buy event = %+v", b)
	}
	waitPending(t, s, 0)
	// The hook counts an event once it is confirmed and recorded: just after the record is
	// written, so a moment after the store stops listing it as pending.
	g := gomega.NewWithT(t)
	g.Eventually(func() []int {
		return []int{published(contract.RoutingKeyItemAdded), published(contract.RoutingKeyItemBought)}
	}).WithTimeout(5*time.Second).WithPolling(10*time.Millisecond).Should(gomega.Equal([]int{1, 1}), "published hooks (add, buy)")
	g.Consistently(func() []int {
		return []int{published(contract.RoutingKeyItemAdded), published(contract.RoutingKeyItemBought)}
	}).WithTimeout(200*time.Millisecond).Should(gomega.Equal([]int{1, 1}), "an event counted twice")
}

// countingSource counts the publication records the relay writes through the real store.
type countingSource struct {
	*store.Store
	mu      sync.Mutex
	records []int // events per Published call
}

func (c *countingSource) Published(ctx context.Context, evs []store.Event) error {
	c.mu.Lock()
	c.records = append(c.records, len(evs))
	c.mu.Unlock()
	return c.Store.Published(ctx, evs)
}

func (c *countingSource) recordSizes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.records...)
}

// Confirmed events are recorded together: the events of several rounds in one write, as
// soon as RecordBatch of them wait (or the oldest waited RecordAfter), and what is left
// when the relay stops.
func TestRelay_RecordsConfirmedEventsTogether(t *testing.T) {
	vhost := testinfra.AMQPVHost(t)
	var r *relay.Relay
	st := newStore(t, store.WithEventHook(func(e store.Event) { r.Enqueue(e) }))
	src := &countingSource{Store: st}
	r = relay.New(src, relay.Config{Conn: amqpx.Config{URL: vhost}, RecordAfter: time.Hour, RecordBatch: 3},
		slog.New(slog.NewTextHandler(io.Discard, nil)), relay.Hooks{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for r.Check(ctx) != nil { // connected: events do not pile up behind the first dial
		time.Sleep(10 * time.Millisecond)
	}

	const items = 5
	for i := range items {
		if _, err := st.CreateItem(context.Background(), acct("seller@example.com"), fmt.Sprintf("item %d", i), 1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond) // past the linger: one round each
	}
	if got := backendtest.Drain(t, vhost, contract.QueueItemAdded, items, 10*time.Second); len(got) != items {
		t.Fatalf("published %d events, want %d", len(got), items)
	}
	// Rounds may coalesce on a busy machine, so the first record holds at least RecordBatch
	// events (all confirmed by then); fewer than RecordBatch are left, and they wait for the
	// stop (RecordAfter is an hour).
	var first int
	deadline := time.Now().Add(10 * time.Second)
	for first == 0 {
		if got := src.recordSizes(); len(got) > 0 {
			if len(got) != 1 || got[0] < 3 {
				t.Fatalf("records = %v, want one of at least 3 events (RecordBatch)", got)
			}
			first = got[0]
		} else if time.Now().After(deadline) {
			t.Fatal("no record of the confirmed events")
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitPending(t, st, items-first) // confirmed, not yet recorded: recovery would still see them

	cancel()
	<-done
	want := []int{first}
	if first < items {
		want = append(want, items-first)
	}
	if got := src.recordSizes(); !slices.Equal(got, want) {
		t.Fatalf("records at stop = %v, want %v (the rest in one at stop)", got, want)
	}
	waitPending(t, st, 0)
}

// brokerViaProxy returns a fresh vhost's URL, and the URL of the same vhost through a proxy
// that the test can stop and start (it starts stopped).
func brokerViaProxy(t *testing.T) (vhost, viaProxy string, proxy *testinfra.Proxy) {
	t.Helper()
	vhost = testinfra.AMQPVHost(t)
	u, _ := url.Parse(vhost)
	proxy = testinfra.NewProxy(t, u.Host)
	via := *u
	via.Host = proxy.Addr
	return vhost, via.String(), proxy
}

func TestRelay_BrokerDownThenBack(t *testing.T) {
	vhost, viaProxy, proxy := brokerViaProxy(t)

	var r *relay.Relay
	s := newStore(t, store.WithEventHook(func(e store.Event) { r.Enqueue(e) }))
	r, _ = startRelay(t, s, viaProxy)
	ctx := context.Background()

	const n = 20
	for range n {
		if _, err := s.CreateItem(ctx, acct("seller@example.com"), "lamp", 1); err != nil {
			t.Fatalf("write while broker is down: %v", err)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if err := r.Check(ctx); err == nil {
		t.Error("Check passes while the broker is unreachable")
	}
	if rec, _ := s.PendingEvents(ctx, time.Now().Add(time.Hour), 100); len(rec.Events) != n {
		t.Fatalf("documents hold %d pending events while the broker is down, want %d", len(rec.Events), n)
	}

	proxy.Start()
	got := backendtest.Drain(t, vhost, contract.QueueItemAdded, n, 15*time.Second)
	if len(got) != n {
		t.Fatalf("after the broker came back %d events arrived, want %d", len(got), n)
	}
	if err := r.Check(ctx); err != nil {
		t.Errorf("Check after reconnect: %v", err)
	}

	// A connection cut mid-life is re-established too.
	proxy.Stop()
	proxy.Start()
	if _, err := s.CreateItem(ctx, acct("seller@example.com"), "after-cut", 1); err != nil {
		t.Fatal(err)
	}
	if got := backendtest.Drain(t, vhost, contract.QueueItemAdded, 1, 15*time.Second); len(got) != 1 || got[0].Event.Item != "after-cut" {
		t.Fatalf("after a cut connection: %+v", got)
	}
}

// What the broker confirmed is recorded even when the broker goes away right after: the
// record needs the database only.
func TestRelay_RecordsWhileTheBrokerIsAway(t *testing.T) {
	vhost, viaProxy, proxy := brokerViaProxy(t)
	proxy.Start()

	var r *relay.Relay
	s := newStore(t, store.WithEventHook(func(e store.Event) { r.Enqueue(e) }))
	r, _ = startRelayWith(t, s, relay.Config{RecordAfter: 500 * time.Millisecond,
		Conn: amqpx.Config{URL: viaProxy, ReconnectMax: 200 * time.Millisecond}})
	if _, err := s.CreateItem(context.Background(), acct("seller@example.com"), "lamp", 1); err != nil {
		t.Fatal(err)
	}
	if got := backendtest.Drain(t, vhost, contract.QueueItemAdded, 1, 10*time.Second); len(got) != 1 {
		t.Fatalf("published %d events, want 1", len(got))
	}
	proxy.Stop()
	waitPending(t, s, 0)
}

// waitPending waits until the documents hold want pending events.
func waitPending(t *testing.T, s *store.Store, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec, err := s.PendingEvents(context.Background(), time.Now().Add(time.Hour), 100)
		if err == nil && len(rec.Events) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending events = %d (%v), want %d", len(rec.Events), err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A process that dies right after its insert, before its relay heard of the event, leaves
// the event in the document: a fresh relay publishes it from recovery, exactly once, at
// start and, for one written while it runs, at its next periodic look.
func TestRelay_RecoversEventsOfACrashedProcess(t *testing.T) {
	vhost := testinfra.AMQPVHost(t)
	crashed := newStore(t) // no event hook: the in-memory hand-over never happens
	ctx := context.Background()
	it, err := crashed.CreateItem(ctx, acct("seller@example.com"), "lamp", 3)
	if err != nil {
		t.Fatal(err)
	}
	other, err := crashed.CreateItem(ctx, acct("seller@example.com"), "chair", 4)
	if err != nil {
		t.Fatal(err)
	}
	o, err := crashed.Buy(ctx, other.ID, acct("buyer@example.com"))
	if err != nil {
		t.Fatal(err)
	}

	cfg := relay.Config{Conn: amqpx.Config{URL: vhost, ReconnectMax: 300 * time.Millisecond},
		RecoverEvery: 300 * time.Millisecond, RecoverAfter: 100 * time.Millisecond}
	_, published := startRelayWith(t, crashed, cfg)
	added := backendtest.Drain(t, vhost, contract.QueueItemAdded, 2, 10*time.Second)
	bought := backendtest.Drain(t, vhost, contract.QueueItemBought, 1, 10*time.Second)
	if len(added) != 2 || len(bought) != 1 || bought[0].MessageID != o.EventID {
		t.Fatalf("recovered %d add and %d buy events, want 2 and 1: %+v %+v", len(added), len(bought), added, bought)
	}
	ids := map[string]bool{added[0].MessageID: true, added[1].MessageID: true}
	if !ids[it.EventID] || !ids[other.EventID] {
		t.Errorf("recovered adds %v, want %s and %s", ids, it.EventID, other.EventID)
	}
	waitPending(t, crashed, 0)

	// Written while the relay runs, never handed to it: the periodic look finds it.
	late, err := crashed.CreateItem(ctx, acct("seller@example.com"), "late", 5)
	if err != nil {
		t.Fatal(err)
	}
	if got := backendtest.Drain(t, vhost, contract.QueueItemAdded, 1, 10*time.Second); len(got) != 1 || got[0].MessageID != late.EventID {
		t.Fatalf("periodic recovery: %+v", got)
	}
	waitPending(t, crashed, 0)

	// Another fresh relay on the same database finds nothing left to publish.
	startRelayWith(t, crashed, cfg)
	time.Sleep(time.Second)
	if n := published(contract.RoutingKeyItemAdded) + published(contract.RoutingKeyItemBought); n != 4 {
		t.Errorf("first relay published %d events, want 4", n)
	}
	if got := backendtest.Drain(t, vhost, contract.QueueItemAdded, 0, time.Second); len(got) != 0 {
		t.Errorf("a second relay republished %d events", len(got))
	}
}

// acct is the account of a test user: its id made from its address, as if auth had.
func acct(email string) store.Account { return store.Account{ID: "id:" + email, Email: email} }
