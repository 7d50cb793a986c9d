// Package topology declares the shop's RabbitMQ exchanges, queues and bindings. It is the one
// place that knows their arguments: the notifier and the backend call Declare at start, and
// the operator's definitions builder uses QueueArgs and the other exported helpers, because
// RabbitMQ refuses (PRECONDITION_FAILED) a second declaration whose arguments differ.
//
// The topology (names from internal/contract):
//
//	ecom-exchange (topic, durable)
//	  ecom.item.add -> ecom-queue-item-added   args: x-dead-letter-exchange=ecom-dlx
//	  ecom.item.buy -> ecom-queue-item-bought  args: x-dead-letter-exchange=ecom-dlx
//	ecom-dlx (fanout, durable)
//	  -> ecom-queue-dead-letter (durable, no arguments)
//	ecom-retry-exchange (headers, durable)
//	  retry-queue=ecom-queue-retry-1s  -> ecom-queue-retry-1s   args: x-message-ttl=1000,
//	                                      x-dead-letter-exchange=ecom-exchange
//	  ... one queue per delay in DefaultRetryDelays (1s, 5s, 30s, 2m)
//
// Why a queue per delay rather than one retry queue with a per-message TTL: RabbitMQ expires
// messages only at the head of a queue, so a message waiting 2 minutes would hold back every
// 1-second retry queued behind it. With one TTL per queue, every message in a queue expires in
// order. Expired retries are dead-lettered to ecom-exchange with the routing key they were
// published with (the original one), so they land in the queue they came from.
//
// The retry exchange is a headers exchange so that a retry can keep its original routing key
// (needed for the way back) while the header RetryHeader picks the delay queue.
//
// The operator cannot import this package (it is internal to services/), so
// contract.ShopTopology holds the same topology as data for its definitions.json; a test here
// fails when the two disagree.
package topology

import (
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"littleecom.io/littleecom/internal/contract"
)

// RetryHeader is the message header whose value (a retry queue's name) routes a message
// through the retry exchange. It does not start with "x-": a headers exchange ignores such
// headers when matching.
const RetryHeader = contract.RetryHeader

// DefaultRetryDelays are the back-off steps of the retry queues Declare creates: the n-th
// retry of a message waits DefaultRetryDelays[min(n, len-1)].
var DefaultRetryDelays = contract.RetryDelays

// Options changes the retry delays; tests use short ones in their own vhost. The zero value
// means the defaults.
type Options struct {
	RetryDelays []time.Duration
}

func (o Options) delays() []time.Duration {
	if len(o.RetryDelays) == 0 {
		return DefaultRetryDelays
	}
	return o.RetryDelays
}

// Binding is a work queue and the routing key that fills it from contract.Exchange.
type Binding struct {
	Queue      string
	RoutingKey string
}

// WorkQueues are the queues the notifier consumes, with their bindings.
var WorkQueues = []Binding{
	{Queue: contract.QueueItemAdded, RoutingKey: contract.RoutingKeyItemAdded},
	{Queue: contract.QueueItemBought, RoutingKey: contract.RoutingKeyItemBought},
}

// QueueArgs are the arguments of a work queue (either of WorkQueues): rejected or expired
// messages go to the dead-letter exchange, so nothing is dropped silently.
func QueueArgs(string) amqp.Table {
	return amqp.Table{contract.ArgDeadLetterExchange: contract.DeadLetterExchange}
}

// RetryQueueName is the name of the retry queue that holds messages for delay d, e.g.
// "ecom-queue-retry-5s".
func RetryQueueName(d time.Duration) string { return contract.RetryQueueName(d) }

// RetryQueueArgs are the arguments of the retry queue for delay d: messages expire after d
// and are dead-lettered back to the main exchange with their original routing key.
func RetryQueueArgs(d time.Duration) amqp.Table {
	return amqp.Table{
		contract.ArgMessageTTL:         int64(d / time.Millisecond),
		contract.ArgDeadLetterExchange: contract.Exchange,
	}
}

// RetryQueueBindingArgs are the headers-exchange binding arguments of the retry queue for d.
func RetryQueueBindingArgs(d time.Duration) amqp.Table {
	return amqp.Table{contract.ArgMatch: "all", RetryHeader: RetryQueueName(d)}
}

// Declare declares the whole topology with the default retry delays. Declarations are
// idempotent: calling it on every start, from several services, changes nothing once it
// exists with the same arguments.
func Declare(ch *amqp.Channel) error { return DeclareWith(ch, Options{}) }

// DeclareWith is Declare with other retry delays.
func DeclareWith(ch *amqp.Channel, opts Options) error {
	exchanges := []struct{ name, kind string }{
		{contract.Exchange, amqp.ExchangeTopic},
		{contract.DeadLetterExchange, amqp.ExchangeFanout},
		{contract.RetryExchange, amqp.ExchangeHeaders},
	}
	for _, e := range exchanges {
		if err := ch.ExchangeDeclare(e.name, e.kind, true, false, false, false, nil); err != nil {
			return fmt.Errorf("declare exchange %s: %w", e.name, err)
		}
	}

	// The dead-letter queue first, so that a work queue never dead-letters into nothing.
	if _, err := ch.QueueDeclare(contract.QueueDeadLetter, true, false, false, false, nil); err != nil {
		return fmt.Errorf("declare queue %s: %w", contract.QueueDeadLetter, err)
	}
	if err := ch.QueueBind(contract.QueueDeadLetter, "", contract.DeadLetterExchange, false, nil); err != nil {
		return fmt.Errorf("bind queue %s: %w", contract.QueueDeadLetter, err)
	}

	for _, b := range WorkQueues {
		if _, err := ch.QueueDeclare(b.Queue, true, false, false, false, QueueArgs(b.Queue)); err != nil {
			return fmt.Errorf("declare queue %s: %w", b.Queue, err)
		}
		if err := ch.QueueBind(b.Queue, b.RoutingKey, contract.Exchange, false, nil); err != nil {
			return fmt.Errorf("bind queue %s to %s: %w", b.Queue, b.RoutingKey, err)
		}
	}

	for _, d := range opts.delays() {
		name := RetryQueueName(d)
		if _, err := ch.QueueDeclare(name, true, false, false, false, RetryQueueArgs(d)); err != nil {
			return fmt.Errorf("declare queue %s: %w", name, err)
		}
		if err := ch.QueueBind(name, "", contract.RetryExchange, false, RetryQueueBindingArgs(d)); err != nil {
			return fmt.Errorf("bind queue %s: %w", name, err)
		}
	}
	return nil
}

// Ensure makes sure the topology exists on conn's vhost without needing more permission
// than the caller has. It first checks every exchange and queue passively, which needs no
// configure permission: under the operator, RabbitMQ's definitions declared them and the
// services' least-privilege users (configure "^$") could not declare them anyway. Only when
// something is missing (a fresh broker in tests or make dev) does it declare actively.
func Ensure(conn *amqp.Connection, opts Options) error {
	missing, err := firstMissing(conn, opts)
	if err != nil || missing == "" {
		return err
	}
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	defer func() { _ = ch.Close() }()
	if err := DeclareWith(ch, opts); err != nil {
		var amqpErr *amqp.Error
		if errors.As(err, &amqpErr) && amqpErr.Code == amqp.AccessRefused {
			return fmt.Errorf("%s is missing and this user may not declare it "+
				"(the operator's RabbitMQ definitions declare the topology): %w", missing, err)
		}
		return err
	}
	return nil
}

// firstMissing names the first exchange or queue that does not exist, or "" when all do.
func firstMissing(conn *amqp.Connection, opts Options) (string, error) {
	type check struct {
		name     string
		exchange bool
		kind     string
		args     amqp.Table
	}
	delays := opts.delays()
	checks := make([]check, 0, 4+len(WorkQueues)+len(delays))
	checks = append(checks,
		check{contract.Exchange, true, amqp.ExchangeTopic, nil},
		check{contract.DeadLetterExchange, true, amqp.ExchangeFanout, nil},
		check{contract.RetryExchange, true, amqp.ExchangeHeaders, nil},
		check{contract.QueueDeadLetter, false, "", nil},
	)
	for _, b := range WorkQueues {
		checks = append(checks, check{b.Queue, false, "", QueueArgs(b.Queue)})
	}
	for _, d := range delays {
		checks = append(checks, check{RetryQueueName(d), false, "", RetryQueueArgs(d)})
	}
	ch, err := conn.Channel()
	if err != nil {
		return "", fmt.Errorf("open channel: %w", err)
	}
	defer func() { _ = ch.Close() }()
	for _, c := range checks {
		if c.exchange {
			err = ch.ExchangeDeclarePassive(c.name, c.kind, true, false, false, false, nil)
		} else {
			_, err = ch.QueueDeclarePassive(c.name, true, false, false, false, c.args)
		}
		var amqpErr *amqp.Error
		if errors.As(err, &amqpErr) && amqpErr.Code == amqp.NotFound {
			return c.name, nil // the broker closed this channel; Ensure opens another
		}
		if err != nil {
			return "", fmt.Errorf("check %s: %w", c.name, err)
		}
	}
	return "", nil
}
