// Package itemfeed tells the backend's replicas which items one of them wrote, so that each
// forgets its cached copy (store/itemcache.go) within milliseconds instead of when the copy
// reaches its age limit.
//
// Every replica publishes the ids it writes to the fanout exchange
// contract.ItemChangesExchange and reads the others' through an exclusive queue the broker
// names and deletes with the connection. Nothing here needs to survive a restart: a replica
// that starts, or comes back after losing the broker, has an empty cache, so the messages it
// missed concern nothing it holds. While it cannot hear the others it keeps its cache
// suspended and serves from the database; it resumes (with an emptied cache) only once its
// queue is bound and consumed.
//
// The messages are sent without confirms and are not retried: what one replica fails to
// announce (its own connection down, a full buffer) leaves the others' copies to their age
// limit, ITEM_CACHE_TTL, which is what bounds staleness in every case. When it knows it
// lost some, it tells the others to forget everything once it can.
package itemfeed

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/backend/store"
	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/topology"
)

// Message types: one item's id in the body, or every item.
const (
	typeItem = "item"
	typeAll  = "all"
)

// queued bounds the changes waiting to be published; more are summed up as "every item".
const queued = 4096

// publishTimeout bounds one publication: a broker that stops reading (flow control) must not
// hold back what this replica hears.
const publishTimeout = 5 * time.Second

// Cache is the store's item cache, which the feed keeps in step with the other replicas.
type Cache interface {
	ForgetItem(id bson.ObjectID)
	ForgetItems()
	SuspendItemCache() (resume func())
}

// Feed publishes this replica's item writes and applies the others'. It implements
// store.ItemChanges.
type Feed struct {
	cfg   amqpx.Config
	cache Cache
	log   *slog.Logger
	// origin marks this replica's messages, which it skips: its cache forgot already.
	origin string

	changes chan change
	// lost is set when a change could not be queued or sent: the others must forget all.
	lost atomic.Bool
	// listening is true while the queue is consumed, for tests and readiness.
	listening atomic.Bool

	// resume is the suspension's end while the cache is suspended; only Run touches it.
	resume func()
}

type change struct {
	id  bson.ObjectID
	all bool
}

var _ store.ItemChanges = (*Feed)(nil)

// New returns a feed for cache, which it suspends until Run is listening.
func New(cfg amqpx.Config, cache Cache, log *slog.Logger) *Feed {
	return &Feed{
		cfg: cfg.WithDefaults(), cache: cache, log: log, origin: rand.Text(),
		changes: make(chan change, queued),
		resume:  cache.SuspendItemCache(),
	}
}

// ItemChanged queues id's announcement; it never blocks.
func (f *Feed) ItemChanged(id bson.ObjectID) { f.queue(change{id: id}) }

// ItemsChanged queues an announcement that every item may have changed.
func (f *Feed) ItemsChanged() { f.queue(change{all: true}) }

func (f *Feed) queue(c change) {
	select {
	case f.changes <- c:
	default:
		f.lost.Store(true)
	}
}

// Listening says whether the feed hears the other replicas now.
func (f *Feed) Listening() bool { return f.listening.Load() }

// Run keeps the feed connected until ctx is done, suspending the cache whenever it is not.
func (f *Feed) Run(ctx context.Context) {
	backoff := amqpx.NewBackoff(f.cfg)
	defer f.suspend()
	for {
		err := f.session(ctx, backoff.Reset)
		f.suspend()
		if ctx.Err() != nil {
			return
		}
		wait := backoff.Next()
		f.log.Warn("item change feed lost; the item cache is off until it is back",
			"err", err, "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// suspend turns the cache off, once.
func (f *Feed) suspend() {
	f.listening.Store(false)
	if f.resume == nil {
		f.resume = f.cache.SuspendItemCache()
	}
}

// session connects, listens and publishes until the connection fails or ctx is done.
func (f *Feed) session(ctx context.Context, connected func()) error {
	conn, err := amqpx.Dial(f.cfg, "littleecom-backend-item-feed")
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	if err := topology.EnsureItemChangesExchange(conn); err != nil {
		return err
	}
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	deliveries, err := listen(ch)
	if err != nil {
		return err
	}
	// Heard from now on; what was cached before the suspension is forgotten by resume.
	f.resume()
	f.resume = nil
	f.listening.Store(true)
	connected()
	f.log.Info("item change feed listening", "url", amqpx.Redact(f.cfg.URL))

	if err := f.publishLost(ctx, ch); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-closed:
			return fmt.Errorf("connection closed: %w", amqpErr(err))
		case d, ok := <-deliveries:
			if !ok {
				return errors.New("the broker cancelled the consumer")
			}
			f.apply(d)
		case c := <-f.changes:
			if err := f.publish(ctx, ch, c); err != nil {
				f.lost.Store(true)
				return err
			}
			if err := f.publishLost(ctx, ch); err != nil {
				return err
			}
		}
	}
}

// publishLost tells the others to forget every item when this replica lost changes it should
// have announced: while it was cut off, or when its queue of changes overflowed.
func (f *Feed) publishLost(ctx context.Context, ch *amqp.Channel) error {
	if !f.lost.Swap(false) {
		return nil
	}
	if err := f.publish(ctx, ch, change{all: true}); err != nil {
		f.lost.Store(true)
		return err
	}
	return nil
}

// listen declares this replica's queue, binds it and consumes it.
func listen(ch *amqp.Channel) (<-chan amqp.Delivery, error) {
	// Not durable, deleted with the connection, this connection's only: the broker names it.
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		return nil, fmt.Errorf("declare the item change queue: %w", err)
	}
	if err := ch.QueueBind(q.Name, "", contract.ItemChangesExchange, false, nil); err != nil {
		return nil, fmt.Errorf("bind the item change queue to %s: %w", contract.ItemChangesExchange, err)
	}
	deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		return nil, fmt.Errorf("consume the item change queue: %w", err)
	}
	return deliveries, nil
}

func (f *Feed) publish(ctx context.Context, ch *amqp.Channel, c change) error {
	msg := amqp.Publishing{AppId: f.origin, Type: typeAll}
	if !c.all {
		msg.Type, msg.Body = typeItem, c.id[:]
	}
	pctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	if err := ch.PublishWithContext(pctx, contract.ItemChangesExchange, "", false, false, msg); err != nil {
		return fmt.Errorf("publish an item change: %w", err)
	}
	return nil
}

// apply forgets what another replica wrote. A message it cannot read makes it forget all.
func (f *Feed) apply(d amqp.Delivery) {
	if d.AppId == f.origin {
		return
	}
	if d.Type == typeItem && len(d.Body) == len(bson.ObjectID{}) {
		f.cache.ForgetItem(bson.ObjectID(d.Body))
		return
	}
	if d.Type != typeAll {
		f.log.Warn("unreadable item change; forgetting every cached item", "type", d.Type, "bytes", len(d.Body))
	}
	f.cache.ForgetItems()
}

// amqpErr turns the library's close reason into an error; nil is a close this side asked for.
func amqpErr(e *amqp.Error) error {
	if e == nil {
		return errors.New("closed")
	}
	return e
}
