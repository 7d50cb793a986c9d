// Package topology declares the shop's RabbitMQ exchanges, queues and bindings. What it
// declares is data in internal/contract (TopologyWith), which the operator's definitions.json
// is rendered from too (contract.ShopTopology), so both sides declare the same arguments:
// RabbitMQ refuses (PRECONDITION_FAILED) a second declaration whose arguments differ. The
// notifier and the backend call Ensure at start; QueueArgs and the other argument helpers
// give the same arguments to code that declares one queue itself (passive checks in tests).
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
type Binding = contract.WorkQueue

// WorkQueues are the queues the notifier consumes, with their bindings.
var WorkQueues = contract.WorkQueues

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

// DeclareWith is Declare with other retry delays. What it declares is
// contract.TopologyWith, the same data the operator's definitions.json is rendered from.
func DeclareWith(ch *amqp.Channel, opts Options) error {
	t := contract.TopologyWith(opts.delays())
	for _, e := range t.Exchanges {
		if err := ch.ExchangeDeclare(e.Name, e.Kind, true, false, false, false, nil); err != nil {
			return fmt.Errorf("declare exchange %s: %w", e.Name, err)
		}
	}
	for _, q := range t.Queues {
		if _, err := ch.QueueDeclare(q.Name, true, false, false, false, amqp.Table(q.Arguments)); err != nil {
			return fmt.Errorf("declare queue %s: %w", q.Name, err)
		}
	}
	for _, b := range t.Bindings {
		if err := ch.QueueBind(b.Queue, b.RoutingKey, b.Exchange, false, amqp.Table(b.Arguments)); err != nil {
			return fmt.Errorf("bind queue %s to %s: %w", b.Queue, b.Exchange, err)
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
	t := contract.TopologyWith(opts.delays())
	ch, err := conn.Channel()
	if err != nil {
		return "", fmt.Errorf("open channel: %w", err)
	}
	defer func() { _ = ch.Close() }()
	check := func(name string, err error) (string, error) {
		var amqpErr *amqp.Error
		if errors.As(err, &amqpErr) && amqpErr.Code == amqp.NotFound {
			return name, nil // the broker closed this channel; Ensure opens another
		}
		if err != nil {
			return "", fmt.Errorf("check %s: %w", name, err)
		}
		return "", nil
	}
	for _, e := range t.Exchanges {
		if missing, err := check(e.Name, ch.ExchangeDeclarePassive(e.Name, e.Kind, true, false, false, false, nil)); missing != "" || err != nil {
			return missing, err
		}
	}
	for _, q := range t.Queues {
		_, qerr := ch.QueueDeclarePassive(q.Name, true, false, false, false, amqp.Table(q.Arguments))
		if missing, err := check(q.Name, qerr); missing != "" || err != nil {
			return missing, err
		}
	}
	return "", nil
}

// VerifyQueue is the queue of verification mails (contract.VerifyWorkQueue). It is optional:
// only a shop with e-mail verification needs it, so it is not part of the topology Ensure
// requires.
var VerifyQueue = contract.VerifyWorkQueue

// EnsureVerifyQueue makes sure the verification-mail queue exists and is bound, and reports
// whether it does. It declares it (like the work queues: rejected messages go to the
// dead-letter exchange) where the caller may; where it may not, a missing queue is no error,
// just false: the shop has no verification. Call it after Ensure.
func EnsureVerifyQueue(conn *amqp.Connection) (bool, error) {
	ch, err := conn.Channel()
	if err != nil {
		return false, fmt.Errorf("open channel: %w", err)
	}
	_, err = ch.QueueDeclarePassive(VerifyQueue.Queue, true, false, false, false, QueueArgs(VerifyQueue.Queue))
	if err == nil {
		_ = ch.Close()
		return true, nil
	}
	if !isAMQP(err, amqp.NotFound) {
		return false, fmt.Errorf("check %s: %w", VerifyQueue.Queue, err)
	}
	// The failed check closed that channel.
	if ch, err = conn.Channel(); err != nil {
		return false, fmt.Errorf("open channel: %w", err)
	}
	defer func() { _ = ch.Close() }()
	_, err = ch.QueueDeclare(VerifyQueue.Queue, true, false, false, false, QueueArgs(VerifyQueue.Queue))
	if err == nil {
		err = ch.QueueBind(VerifyQueue.Queue, VerifyQueue.RoutingKey, contract.Exchange, false, nil)
	}
	switch {
	case isAMQP(err, amqp.AccessRefused):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("declare %s: %w", VerifyQueue.Queue, err)
	}
	return true, nil
}

// EnsureItemChangesExchange makes sure the backend's item change exchange
// (contract.ItemChangesTopology) exists, declaring it where the caller may. Like the
// verification queue it is not part of the topology Ensure requires; unlike it, a caller
// that needs it gets an error naming it when it is missing and may not be declared.
func EnsureItemChangesExchange(conn *amqp.Connection) error {
	e := contract.ItemChangesTopology
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	err = ch.ExchangeDeclarePassive(e.Name, e.Kind, true, false, false, false, nil)
	if err == nil {
		_ = ch.Close()
		return nil
	}
	if !isAMQP(err, amqp.NotFound) {
		return fmt.Errorf("check %s: %w", e.Name, err)
	}
	// The failed check closed that channel.
	if ch, err = conn.Channel(); err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	defer func() { _ = ch.Close() }()
	if err := ch.ExchangeDeclare(e.Name, e.Kind, true, false, false, false, nil); err != nil {
		return fmt.Errorf("exchange %s is missing and this user may not declare it "+
			"(the operator's RabbitMQ definitions declare it): %w", e.Name, err)
	}
	return nil
}

func isAMQP(err error, code int) bool {
	var amqpErr *amqp.Error
	return errors.As(err, &amqpErr) && amqpErr.Code == code
}
