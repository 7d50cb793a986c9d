package backend

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCoalescer_JoinsTheNextQueryNeverARunningOne(t *testing.T) {
	c := newCoalescer[string, int64](time.Second)
	var queries atomic.Int64
	gate := make(chan struct{})
	query := func(context.Context) (int64, error) { //nolint:unparam // coalescer.do dictates the signature; this query never fails
		n := queries.Add(1)
		if n == 1 {
			<-gate // the first query runs until the test lets it go
		}
		return n, nil
	}

	first := make(chan int64)
	go func() { v, _ := c.do(context.Background(), "k", query); first <- v }()
	waitUntil(t, func() bool { return queries.Load() == 1 })

	// These arrive while query 1 runs: they must not get its result.
	var wg sync.WaitGroup
	late := make([]int64, 8)
	for i := range late {
		wg.Go(func() { late[i], _ = c.do(context.Background(), "k", query) })
	}
	// A waiter that gives up does not disturb the others.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.do(ctx, "k", query); err == nil {
		t.Error("cancelled waiter got no error")
	}
	time.Sleep(50 * time.Millisecond) // let them queue
	close(gate)

	if v := <-first; v != 1 {
		t.Errorf("first caller got query %d, want 1", v)
	}
	wg.Wait()
	for i, v := range late {
		if v != 2 {
			t.Errorf("late caller %d got query %d, want 2 (one shared query after theirs arrived)", i, v)
		}
	}
	if v, _ := c.do(context.Background(), "k", query); v != 3 {
		t.Errorf("caller after everything got query %d, want 3", v)
	}
	if v, _ := c.do(context.Background(), "other", query); v != 4 {
		t.Errorf("other key got query %d, want 4", v)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.groups) != 0 {
		t.Errorf("groups left behind: %d", len(c.groups))
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// A query that panics answers the requests sharing it with an error, and the next query for
// the key still runs: nothing waits for ever and the process goes on.
func TestCoalescer_PanickingQueryFailsItsRequestsOnly(t *testing.T) {
	c := newCoalescer[string, int](time.Second)
	var calls atomic.Int64
	gate := make(chan struct{})
	query := func(context.Context) (int, error) { //nolint:unparam // coalescer.do dictates the signature; this query panics or succeeds
		if calls.Add(1) == 1 {
			<-gate
			panic("decoder bug")
		}
		return 7, nil
	}
	first := make(chan error, 1)
	go func() { _, err := c.do(context.Background(), "k", query); first <- err }()
	waitUntil(t, func() bool { return calls.Load() == 1 })
	// Queued behind the panicking query: it runs on a goroutine of its own.
	second := make(chan int, 1)
	go func() { v, _ := c.do(context.Background(), "k", query); second <- v }()
	time.Sleep(50 * time.Millisecond)
	close(gate)
	if err := <-first; err == nil {
		t.Fatal("the panicking query's request got no error")
	}
	select {
	case v := <-second:
		if v != 7 {
			t.Fatalf("the next query answered %d, want 7", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the request queued behind a panicking query never got its answer")
	}
}
