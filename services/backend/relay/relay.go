package relay

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/backend/store"
	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/tracing"
)

// Source is where events wait: store.Store implements it.
type Source interface {
	// PendingEvents looks for events created before before that were never recorded as
	// published (recovery), at most limit per collection.
	PendingEvents(ctx context.Context, before time.Time, limit int) (store.Recovery, error)
	// Published records events the broker confirmed.
	Published(ctx context.Context, events []store.Event) error
	// Recovered advances the recovery checkpoint once every event before through is out.
	Recovered(ctx context.Context, through time.Time) error
}

// Hooks report outcomes to metrics. Nil hooks are ignored.
type Hooks struct {
	Published func(routingKey string)
	Failed    func(routingKey string)
}

// Relay publishes events to RabbitMQ. Run it in one goroutine; Enqueue and Check may be
// called from any.
type Relay struct {
	src   Source
	cfg   Config
	log   *slog.Logger
	hooks Hooks
	nudge chan struct{}

	// Owned by the Run goroutine.
	conn *amqp.Connection
	ch   *amqp.Channel
	// unrecorded holds events the broker confirmed and that are not recorded as published
	// yet, since unrecordedSince; see recordDue.
	unrecorded      []store.Event
	unrecordedSince time.Time
	// recovering holds the ids of the events the last recovery found, until they are out;
	// then the checkpoint moves to through. Nil when no recovery is under way.
	recovering map[string]bool
	through    time.Time

	mu      sync.Mutex
	lastErr error // nil once connected; the last failure otherwise
	queue   []store.Event
	// known holds the ids of events queued, in flight or confirmed but not yet recorded, so
	// that recovery does not queue an event twice.
	known map[string]struct{}
}

// New returns a Relay that publishes to cfg.URL the events handed to Enqueue, and those
// src still holds (recovery).
func New(src Source, cfg Config, log *slog.Logger, hooks Hooks) *Relay {
	return &Relay{
		src: src, cfg: cfg.withDefaults(), log: log, hooks: hooks,
		nudge:   make(chan struct{}, 1),
		lastErr: errNotConnected,
		known:   map[string]struct{}{},
	}
}

// Enqueue hands the relay an event whose document was written, so it goes out in
// milliseconds without a database read. It never blocks. When MaxQueued events already
// wait (a long broker outage) it drops the event from memory: it stays in its document,
// and recovery publishes it later.
func (r *Relay) Enqueue(e store.Event) {
	if n, _ := r.add([]store.Event{e}); n > 0 {
		select {
		case r.nudge <- struct{}{}:
		default:
		}
	}
}

// add queues the events not already known. It returns how many it queued, and whether all
// of evs are known now (false when MaxQueued left some out).
func (r *Relay) add(evs []store.Event) (n int, allKnown bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	allKnown = true
	for _, e := range evs {
		if _, ok := r.known[e.ID]; ok {
			continue
		}
		if len(r.queue) >= r.cfg.MaxQueued {
			allKnown = false
			continue
		}
		r.known[e.ID] = struct{}{}
		r.queue = append(r.queue, e)
		n++
	}
	return n, allKnown
}

// take removes up to n events from the front of the queue; they stay known.
func (r *Relay) take(n int) []store.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	n = min(n, len(r.queue))
	out := make([]store.Event, n)
	copy(out, r.queue)
	r.queue = r.queue[n:]
	if len(r.queue) == 0 {
		r.queue = nil // let the array go after a burst
	}
	return out
}

// putBack returns events that were not confirmed to the front of the queue.
func (r *Relay) putBack(evs []store.Event) {
	if len(evs) == 0 {
		return
	}
	r.mu.Lock()
	r.queue = append(slices.Clip(evs), r.queue...)
	r.mu.Unlock()
}

// forget drops recorded events from known.
func (r *Relay) forget(evs []store.Event) {
	r.mu.Lock()
	for _, e := range evs {
		delete(r.known, e.ID)
	}
	r.mu.Unlock()
}

func (r *Relay) queued() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue)
}

// Check reports whether the relay is connected to RabbitMQ, for /readyz.
func (r *Relay) Check(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}

func (r *Relay) setState(err error) {
	r.mu.Lock()
	r.lastErr = err
	r.mu.Unlock()
}

// Run publishes events until ctx is done, retrying with back-off while RabbitMQ or the
// database fails. It recovers events left in the database at start, after every new
// connection and every RecoverEvery. It returns nil on cancellation.
func (r *Relay) Run(ctx context.Context) error {
	defer r.disconnect()
	defer r.recordOnExit(ctx)
	backoff := amqpx.NewBackoff(r.cfg.Conn)
	recoverTick := time.NewTicker(r.cfg.RecoverEvery)
	defer recoverTick.Stop()
	sweep := true
	for {
		if err := r.drain(ctx, &sweep); err != nil {
			wait := backoff.Next()
			r.log.WarnContext(ctx, "event relay failed; retrying", "err", err, "retry_in", wait)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			continue
		}
		backoff.Reset()
		select {
		case <-ctx.Done():
			return nil
		case <-r.recordTimer():
		case <-r.nudge:
			// Let a few more requests' events arrive, so one round serves many.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(r.cfg.Linger):
			}
		case <-recoverTick.C:
			sweep = true
		}
	}
}

// drain recovers events when asked to, then publishes batches until the queue is empty. It
// keeps the connection open even when idle, so that /readyz tells whether the broker is
// reachable.
func (r *Relay) drain(ctx context.Context, sweep *bool) error {
	for ctx.Err() == nil {
		if r.recordDue() {
			if err := r.record(ctx); err != nil {
				return err
			}
		}
		fresh := r.ch == nil
		ch, err := r.channel()
		if err != nil {
			r.setState(err)
			return err
		}
		if fresh {
			*sweep = true // what failed to go out before may have been dropped from memory
		}
		// A batch in flight is finished even when shutdown begins: its confirms are on the way.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.ConfirmTimeout)
		err = r.round(bctx, ch, sweep)
		cancel()
		if err != nil {
			// The channel may be fine (a database error), but a fresh one costs little
			// and clears any doubt about unconfirmed messages.
			r.disconnect()
			r.setState(err)
			return err
		}
		if r.queued() == 0 && !r.recordDue() && !*sweep && r.recovering == nil {
			return nil
		}
	}
	return nil
}

// round does one step: advance the recovery checkpoint, or recover (once the queue is
// empty), or publish one batch.
func (r *Relay) round(ctx context.Context, ch *amqp.Channel, sweep *bool) error {
	if r.recovering != nil && len(r.recovering) == 0 {
		if err := r.src.Recovered(ctx, r.through); err != nil {
			return fmt.Errorf("advance recovery checkpoint: %w", err)
		}
		r.recovering = nil
		return nil
	}
	if *sweep && r.queued() == 0 && r.recovering == nil {
		return r.recover(ctx, sweep)
	}
	if r.queued() == 0 {
		// Nothing to publish: recovered events are still known elsewhere (another
		// batch's retry); look again next time.
		r.recovering = nil
		return nil
	}
	return r.publishBatch(ctx, ch)
}

// recover queues the events that wait in the database without anyone having handed them
// to this relay, and remembers them so that the checkpoint advances once they are out.
// It runs on the Run goroutine, so no event is recorded while it reads: what it finds is
// pending, or known here.
func (r *Relay) recover(ctx context.Context, sweep *bool) error {
	limit := max(r.cfg.MaxQueued/2, 1)
	rec, err := r.src.PendingEvents(ctx, time.Now().Add(-r.cfg.RecoverAfter), limit)
	if err != nil {
		return fmt.Errorf("recover pending events: %w", err)
	}
	n, allKnown := r.add(rec.Events)
	if n > 0 {
		r.log.InfoContext(ctx, "recovered pending events", "count", n)
	}
	r.recovering, r.through = nil, rec.Through
	if allKnown { // else memory full: this look cannot complete, the next one will
		r.recovering = make(map[string]bool, len(rec.Events))
		for _, e := range rec.Events {
			r.recovering[e.ID] = true
		}
	}
	// A look that stopped at its limit, or could not queue everything, goes on later.
	*sweep = r.recovering == nil || len(rec.Events) >= limit
	return nil
}

// publishBatch publishes one batch with all its confirms outstanding, then records the
// confirmed events as published.
func (r *Relay) publishBatch(ctx context.Context, ch *amqp.Channel) error {
	evs := r.take(r.cfg.Batch)
	if len(evs) == 0 {
		return nil
	}
	confirms := make([]*amqp.DeferredConfirmation, 0, len(evs))
	spans := make(publishSpans, 0, len(evs))
	defer func() { spans.end() }() // those a failure left open
	var pubErr error
	for _, e := range evs {
		// The publication continues the trace of the request that wrote the event, even
		// when recovery publishes it long after; its context travels in the headers.
		sctx, span := r.startPublish(ctx, e)
		spans = append(spans, span)
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, contract.Exchange, e.RoutingKey, false, false,
			amqp.Publishing{
				Headers:      tracing.InjectAMQP(sctx, nil),
				DeliveryMode: amqp.Persistent,
				ContentType:  "application/json",
				MessageId:    e.ID,
				Timestamp:    e.CreatedAt,
				AppId:        "littleecom-backend",
				Body:         e.Body,
			})
		if err != nil {
			pubErr = fmt.Errorf("publish %s: %w", e.RoutingKey, err)
			spans.fail(len(spans)-1, pubErr)
			break
		}
		confirms = append(confirms, dc)
	}

	var acked, failed []store.Event
	for i, dc := range confirms {
		ok, err := dc.WaitContext(ctx)
		if err != nil {
			pubErr = fmt.Errorf("wait for confirm: %w", err)
			spans.fail(i, pubErr)
			failed = append(failed, evs[i:len(confirms)]...)
			break
		}
		if !ok {
			// Nacked, or the channel closed first: it goes out again.
			r.hook(r.hooks.Failed, evs[i].RoutingKey)
			err := fmt.Errorf("broker did not confirm %s event %s", evs[i].RoutingKey, evs[i].ID)
			if pubErr == nil {
				pubErr = err
			}
			spans.fail(i, err)
			failed = append(failed, evs[i])
			continue
		}
		spans.ok(i)
		acked = append(acked, evs[i])
	}
	failed = append(failed, evs[len(confirms):]...) // never published
	r.putBack(failed)
	// The broker has them: they are recorded later, with others (recordDue), and stay
	// known until then so that recovery does not queue them again.
	if len(acked) > 0 && len(r.unrecorded) == 0 {
		r.unrecordedSince = time.Now()
	}
	r.unrecorded = append(r.unrecorded, acked...)
	return pubErr
}

// done counts events confirmed and recorded (the metric says an event is fully out) and
// forgets them.
func (r *Relay) done(evs []store.Event) {
	for _, e := range evs {
		r.hook(r.hooks.Published, e.RoutingKey)
		delete(r.recovering, e.ID)
	}
	r.forget(evs)
}

func (r *Relay) hook(fn func(string), key string) {
	if fn != nil {
		fn(key)
	}
}
