package backend

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Listing reads are coalesced: concurrent requests for the same page share one database
// query. A request never takes the result of a query that started before it arrived (it
// joins the next one), so it sees every write that completed before it came in, exactly as
// with a query of its own. Under load one query then serves every request that arrived
// while the previous one ran: at concurrency 32 that divides the service's and the
// database's work per listing by about the number of waiting requests. Without concurrent
// requests nothing changes.
//
// Hand-written on purpose: golang.org/x/sync/singleflight hands every caller the result of
// the call already in flight, one that may have started before the caller arrived and so
// miss a write the caller has just seen complete. Joining the next query instead is the
// point of this type, and singleflight has no way to say it.

// coalescer runs at most one query per key at a time, plus one queued for the requests
// that arrived meanwhile.
type coalescer[K comparable, V any] struct {
	timeout time.Duration // bounds a query, which no single request's context may cancel

	mu     sync.Mutex
	groups map[K]*group[V]
}

type group[V any] struct {
	running *flight[V]
	next    *flight[V] // the query the requests arriving now will share
}

type flight[V any] struct {
	done chan struct{}
	val  V
	err  error
}

func newCoalescer[K comparable, V any](timeout time.Duration) *coalescer[K, V] {
	return &coalescer[K, V]{timeout: timeout, groups: map[K]*group[V]{}}
}

// do returns the result of a run of query that started after do was called.
func (c *coalescer[K, V]) do(ctx context.Context, key K, query func(context.Context) (V, error)) (V, error) {
	c.mu.Lock()
	g := c.groups[key]
	if g == nil {
		g = &group[V]{}
		c.groups[key] = g
	}
	var f *flight[V]
	if g.running == nil {
		f = &flight[V]{done: make(chan struct{})}
		g.running = f
		c.mu.Unlock()
		c.run(key, g, f, query)
	} else {
		if g.next == nil {
			g.next = &flight[V]{done: make(chan struct{})}
		}
		f = g.next
		c.mu.Unlock()
	}
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

// query runs one query under the coalescer's timeout, turning a panic into its error: the
// requests sharing it must be answered, and a queued query may run on a goroutine of its
// own, where a panic would end the process.
func (c *coalescer[K, V]) query(query func(context.Context) (V, error)) (val V, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			var zero V
			val, err = zero, fmt.Errorf("listing query panicked: %v", p)
		}
	}()
	return query(ctx)
}

// run executes f, then starts the queued flight, if any, in its own goroutine, so that the
// caller answers its request without waiting for the next query.
func (c *coalescer[K, V]) run(key K, g *group[V], f *flight[V], query func(context.Context) (V, error)) {
	f.val, f.err = c.query(query)
	close(f.done)

	c.mu.Lock()
	next := g.next
	g.next, g.running = nil, next
	if next == nil {
		delete(c.groups, key)
	}
	c.mu.Unlock()
	if next != nil {
		go c.run(key, g, next, query)
	}
}
