package notifier

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/topology"
	"littleecom.io/littleecom/services/internal/tracing"
)

// job is one delivery on its way to a worker, with the binding of the queue it came from.
type job struct {
	from topology.Binding
	d    amqp.Delivery
}

// session runs one RabbitMQ connection: declare, consume both queues, feed the workers. It
// returns when ctx ends (after in-flight messages are settled) or the connection drops.
func (n *Notifier) session(ctx context.Context) error {
	conn, err := n.dial()
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))

	if err := topology.Ensure(conn, topology.Options{RetryDelays: n.cfg.RetryDelays}); err != nil {
		return fmt.Errorf("declare topology: %w", err)
	}
	sub, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open consumer channel: %w", err)
	}
	if err := sub.Qos(n.cfg.Prefetch, 0, false); err != nil {
		return fmt.Errorf("set prefetch: %w", err)
	}
	pub, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open publisher channel: %w", err)
	}
	if err := pub.Confirm(false); err != nil {
		return fmt.Errorf("confirm mode: %w", err)
	}
	// A channel error (say, an ack with a stale tag) closes one channel and leaves the
	// connection up: watch all three, or consuming would stop without a reconnect.
	subClosed := sub.NotifyClose(make(chan *amqp.Error, 1))
	pubClosed := pub.NotifyClose(make(chan *amqp.Error, 1))

	// Fan both queues into one unbuffered channel: a message is either still with the
	// client library (and requeued by the broker when the channel closes) or held by a
	// worker that will settle it.
	work := make(chan job)
	stop := make(chan struct{})
	queues, err := n.queues(conn)
	if err != nil {
		return err
	}
	// gone reports a consumer whose deliveries ended on their own (the broker cancelled it,
	// say because its queue was deleted): without it the session would idle forever.
	gone := make(chan string, len(queues))
	var feeders sync.WaitGroup
	var tags []string
	for _, b := range queues {
		tag := fmt.Sprintf("notifier-%s-%d", b.Queue, time.Now().UnixNano())
		deliveries, err := sub.Consume(b.Queue, tag, false, false, false, false, nil)
		if err != nil {
			close(stop)
			return fmt.Errorf("consume %s: %w", b.Queue, err)
		}
		tags = append(tags, tag)
		feeders.Go(func() {
			for {
				select {
				case d, ok := <-deliveries:
					if !ok {
						gone <- b.Queue
						return
					}
					select {
					case work <- job{from: b, d: d}:
					case <-stop:
						return
					}
				case <-stop:
					return
				}
			}
		})
	}

	var workers sync.WaitGroup
	for range n.cfg.Workers {
		workers.Go(func() {
			for j := range work {
				n.process(ctx, pub, j)
			}
		})
	}
	n.conn.Store(conn)
	n.log.Info("consuming", "queues", len(tags), "prefetch", n.cfg.Prefetch, "workers", n.cfg.Workers)
	defer n.conn.Store(nil)

	var result error
	select {
	case <-ctx.Done():
		// Graceful stop: no new deliveries, finish what the workers hold, then close the
		// connection, which hands every unacked prefetched message back to the queue.
		for _, tag := range tags {
			_ = sub.Cancel(tag, false)
		}
		n.log.Info("stopping: consumers cancelled, finishing in-flight messages")
	case e := <-closed:
		result = fmt.Errorf("connection closed: %v", e)
	case e := <-subClosed:
		result = fmt.Errorf("consumer channel closed: %v", e)
	case e := <-pubClosed:
		result = fmt.Errorf("publisher channel closed: %v", e)
	case q := <-gone:
		result = fmt.Errorf("consumer of %s ended", q)
	}
	close(stop)
	feeders.Wait()
	close(work)
	workers.Wait()
	return result
}

// process handles and settles one delivery in a consumer span that continues the
// publisher's trace. The handling context is detached from ctx so that a shutdown lets an
// in-flight message finish; the SMTP and database timeouts bound it.
func (n *Notifier) process(ctx context.Context, pub *amqp.Channel, j job) {
	hctx, span := tracing.StartConsume(context.WithoutCancel(ctx), n.cfg.Tracing, j.from.Queue, j.d)
	o := n.handleRecovering(hctx, j.from.Queue, j.d)
	err := n.settle(hctx, pub, j.from, j.d, o)
	if err != nil {
		// Typically the connection went away: the broker redelivers the message, and the
		// claims keep that from sending a second e-mail.
		n.log.WarnContext(hctx, "settling message failed; it will be redelivered", "queue", j.from.Queue, "err", err)
	}
	tracing.End(span, errors.Join(o.err, err))
}

// handleRecovering is handle that parks a message whose handling panicked, with the panic
// as the reason: a bug that one message triggers must not end the process, or the message
// would be redelivered to the next process and end it too, for ever.
func (n *Notifier) handleRecovering(ctx context.Context, queue string, d amqp.Delivery) (o outcome) {
	defer func() {
		if p := recover(); p != nil {
			n.log.Error("handling a message panicked; parking it", "queue", queue, "panic", p, "stack", string(debug.Stack()))
			o = outcome{verdictPark, fmt.Errorf("handling panicked: %v", p)}
		}
	}()
	return n.handle(ctx, queue, d)
}

// queues are the queues to consume: the item events', and the verification mails' where
// that queue exists (a shop with e-mail verification).
func (n *Notifier) queues(conn *amqp.Connection) ([]topology.Binding, error) {
	queues := slices.Clone(topology.WorkQueues)
	ok, err := topology.EnsureVerifyQueue(conn)
	if err != nil {
		return nil, fmt.Errorf("declare topology: %w", err)
	}
	if ok {
		queues = append(queues, topology.VerifyQueue)
	} else {
		n.log.Info("no verification-mail queue (" + topology.VerifyQueue.Queue + "): the shop does not verify e-mail addresses")
	}
	return queues, nil
}

// dial connects with credentials from their own settings, not from the URL.
func (n *Notifier) dial() (*amqp.Connection, error) {
	return amqpx.Dial(n.cfg.AMQP, "littleecom-notifier")
}
