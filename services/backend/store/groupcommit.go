package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Group commit: the writes that arrive while one write command is running wait for it,
// then go to the database together in the next one, unordered, so that one write's failure
// fails only its own request. Every write is still its own atomic write. Under load this
// divides the round trips, the driver's work and FerretDB's per-command work by the number
// of waiting requests (docs/performance-backend.md); a lone request is sent at once.
// FerretDB queues writes anyway (gate.go), so nothing waits longer than it would have in
// that queue.

// groupCommitTimeout bounds one command: the requests in it share it, so no single
// request's context may cancel it.
const groupCommitTimeout = 10 * time.Second

// groupCommit sends writes of type T, each answered with an R, by group commit. At most one
// command is in flight; the request that sends it (the leader) hands the lead to the oldest
// waiting request when its command returns.
type groupCommit[T, R any] struct {
	max int // writes per command, so that one slow command holds few requests
	// send writes ops with one command and returns one outcome per op, in order. A whole
	// failure is every op's error.
	send func(ctx context.Context, ops []T) []outcome[R]

	mu      sync.Mutex
	queue   []*pendingWrite[T, R]
	leading bool // a command is being sent
}

// outcome is what one write of a command came to.
type outcome[R any] struct {
	val R
	err error
}

// pendingWrite is one request's write. Its fields after op are guarded by the group's
// mutex until done is closed.
type pendingWrite[T, R any] struct {
	op   T
	done chan struct{} // closed when out is set, or when this request is to lead

	taken bool // in the command being sent; the request must wait for its outcome
	lead  bool // the previous leader handed the lead to this request
	out   outcome[R]
}

// do writes op in the next command and returns its outcome. If ctx ends while op waits for
// its turn, nothing is written; once op is in a command being sent, do waits for that
// command's outcome.
func (g *groupCommit[T, R]) do(ctx context.Context, op T) (R, error) {
	me := &pendingWrite[T, R]{op: op, done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, me)
	if g.leading {
		g.mu.Unlock()
		if !g.wait(ctx, me) {
			var zero R
			return zero, ctx.Err()
		}
		if !me.lead {
			return me.out.val, me.out.err
		}
		g.mu.Lock()
	}
	g.leading = true
	n := min(len(g.queue), g.max)
	batch := make([]*pendingWrite[T, R], n)
	copy(batch, g.queue)
	g.queue = append(g.queue[:0:0], g.queue[n:]...)
	for _, p := range batch {
		p.taken = true
	}
	g.mu.Unlock()

	g.sendBatch(ctx, batch, me)

	g.mu.Lock()
	if len(g.queue) > 0 {
		next := g.queue[0]
		next.lead = true
		close(next.done)
	} else {
		g.leading = false
	}
	g.mu.Unlock()
	return me.out.val, me.out.err
}

// queued reports how many requests wait for a command.
func (g *groupCommit[T, R]) queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}

// wait blocks until me has its outcome or the lead. It reports false if ctx ended while me
// was still queued, in which case me has left the queue and nothing of it is written.
func (g *groupCommit[T, R]) wait(ctx context.Context, me *pendingWrite[T, R]) bool {
	select {
	case <-me.done:
		return true
	case <-ctx.Done():
	}
	g.mu.Lock()
	if me.taken || me.lead {
		g.mu.Unlock()
		<-me.done
		return true
	}
	for i, p := range g.queue {
		if p == me {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			break
		}
	}
	g.mu.Unlock()
	return false
}

// sendBatch sends the batch with one command and hands every request but the leader (me)
// its outcome.
func (g *groupCommit[T, R]) sendBatch(ctx context.Context, batch []*pendingWrite[T, R], me *pendingWrite[T, R]) {
	ops := make([]T, len(batch))
	for i, p := range batch {
		ops[i] = p.op
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), groupCommitTimeout)
	outs := g.sendRecovering(cctx, ops)
	cancel()
	for i, p := range batch {
		p.out = outs[i]
		if p != me {
			close(p.done)
		}
	}
}

// sendRecovering sends the command, turning a panic or a wrong count of outcomes into
// every op's error: the requests waiting on the command must be answered and the lead
// handed on, or every later write would wait for ever.
func (g *groupCommit[T, R]) sendRecovering(ctx context.Context, ops []T) (outs []outcome[R]) {
	defer func() {
		if p := recover(); p != nil {
			outs = failAll[R](len(ops), fmt.Errorf("write command panicked: %v", p))
		}
	}()
	outs = g.send(ctx, ops)
	if len(outs) != len(ops) {
		return failAll[R](len(ops), fmt.Errorf("write command answered %d outcomes for %d writes", len(outs), len(ops)))
	}
	return outs
}

// failAll is n outcomes of err.
func failAll[R any](n int, err error) []outcome[R] {
	outs := make([]outcome[R], n)
	for i := range outs {
		outs[i].err = err
	}
	return outs
}
