package relay

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/backend/store"
)

// Source is the outbox: store.Store implements it.
type Source interface {
	// Events returns up to limit entries ready to publish, oldest first.
	Events(ctx context.Context, limit int) ([]store.Event, error)
	// Published removes entries the broker confirmed.
	Published(ctx context.Context, events []store.Event) error
}

var _ Source = (*store.Store)(nil)

// Hooks report outcomes to metrics. Nil hooks are ignored.
type Hooks struct {
	Published func(routingKey string)
	Failed    func(routingKey string)
}

// Relay drains the outbox into RabbitMQ. Run it in one goroutine; Nudge and Check may be
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

	mu      sync.Mutex
	lastErr error // nil once connected; the last failure otherwise
}

// New returns a Relay that reads src and publishes to cfg.URL.
func New(src Source, cfg Config, log *slog.Logger, hooks Hooks) *Relay {
	return &Relay{
		src: src, cfg: cfg.withDefaults(), log: log, hooks: hooks,
		nudge:   make(chan struct{}, 1),
		lastErr: errNotConnected,
	}
}

// Nudge wakes the relay after a write queued an event, so events go out in milliseconds
// rather than at the next poll. It never blocks.
func (r *Relay) Nudge() {
	select {
	case r.nudge <- struct{}{}:
	default:
	}
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

// Run drains the outbox until ctx is done, retrying with back-off while RabbitMQ or the
// database fails. It returns nil on cancellation.
func (r *Relay) Run(ctx context.Context) error {
	defer r.disconnect()
	backoff := r.cfg.MinBackoff
	poll := time.NewTicker(r.cfg.Poll)
	defer poll.Stop()
	for {
		if err := r.drain(ctx); err != nil {
			r.log.WarnContext(ctx, "outbox relay failed; retrying", "err", err, "retry_in", backoff)
			// Full jitter, so replicas that lost the broker together do not return together.
			wait := backoff/2 + rand.N(backoff/2+1)
			backoff = min(backoff*2, r.cfg.MaxBackoff)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			continue
		}
		backoff = r.cfg.MinBackoff
		select {
		case <-ctx.Done():
			return nil
		case <-r.nudge:
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(r.cfg.Linger):
			}
		case <-poll.C:
		}
	}
}

// drain publishes batches until the outbox has nothing ready. It keeps the connection open
// even when idle, so that /readyz tells whether the broker is reachable.
func (r *Relay) drain(ctx context.Context) error {
	for ctx.Err() == nil {
		ch, err := r.channel()
		if err != nil {
			r.setState(err)
			return err
		}
		// A batch in flight is finished even when shutdown begins: its confirms are on the way.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.ConfirmTimeout)
		n, err := r.publishBatch(bctx, ch)
		cancel()
		if err != nil {
			// The channel may be fine (a database error), but a fresh one costs little
			// and clears any doubt about unconfirmed messages.
			r.disconnect()
			r.setState(err)
			return err
		}
		if n < r.cfg.Batch {
			return nil
		}
	}
	return nil
}

// publishBatch publishes one batch with all its confirms outstanding, then deletes the
// confirmed entries. It returns how many entries were ready.
func (r *Relay) publishBatch(ctx context.Context, ch *amqp.Channel) (int, error) {
	evs, err := r.src.Events(ctx, r.cfg.Batch)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	confirms := make([]*amqp.DeferredConfirmation, 0, len(evs))
	var pubErr error
	for _, e := range evs {
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, contract.Exchange, e.RoutingKey, false, false,
			amqp.Publishing{
				DeliveryMode: amqp.Persistent,
				ContentType:  "application/json",
				MessageId:    e.ID,
				Timestamp:    e.CreatedAt,
				AppId:        "littleecom-backend",
				Body:         e.Body,
			})
		if err != nil {
			pubErr = fmt.Errorf("publish %s: %w", e.RoutingKey, err)
			break
		}
		confirms = append(confirms, dc)
	}

	var acked []store.Event
	for i, dc := range confirms {
		ok, err := dc.WaitContext(ctx)
		if err != nil {
			pubErr = fmt.Errorf("wait for confirm: %w", err)
			break
		}
		if !ok {
			// Nacked, or the channel closed first: it stays in the outbox for the next round.
			r.hook(r.hooks.Failed, evs[i].RoutingKey)
			if pubErr == nil {
				pubErr = fmt.Errorf("broker did not confirm %s event %s", evs[i].RoutingKey, evs[i].ID)
			}
			continue
		}
		acked = append(acked, evs[i])
	}
	if err := r.src.Published(ctx, acked); err != nil {
		return 0, err // they go out again: at least once
	}
	for _, e := range acked {
		r.hook(r.hooks.Published, e.RoutingKey)
	}
	return len(evs), pubErr
}

func (r *Relay) hook(fn func(string), key string) {
	if fn != nil {
		fn(key)
	}
}
