package notifier

import (
	"context"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/topology"
)

// Headers the notifier sets on retried and parked messages.
const (
	// HeaderAttempts counts failed sends of the message; at MaxAttempts it is parked.
	HeaderAttempts = "x-notifier-attempts"
	// HeaderWaits counts retries that were not the message's fault (busy claim, database).
	HeaderWaits = "x-notifier-waits"
	// HeaderReason says why a message was parked in the dead-letter queue.
	HeaderReason = "x-notifier-reason"
	// HeaderQueue names the queue a parked message came from.
	HeaderQueue = "x-notifier-queue"
)

// confirmTimeout bounds the wait for the broker's confirm of a retry or a parked message.
const confirmTimeout = 10 * time.Second

// settle acts on the outcome: ack, or republish (to the retry exchange or the dead-letter
// exchange, with a publisher confirm) and then ack. Nothing is acked before its replacement
// is confirmed, so a crash in between redelivers rather than loses. from is the binding of
// the queue d came from.
func (n *Notifier) settle(ctx context.Context, pub *amqp.Channel, from topology.Binding, d amqp.Delivery, o outcome) error {
	queue, event := from.Queue, from.RoutingKey
	switch o.verdict {
	case verdictAck:
		if err := d.Ack(false); err != nil {
			return err
		}
		n.metrics.EventsConsumed.WithLabelValues(event).Inc()
		return nil
	case verdictPark:
		n.metrics.EventsFailed.WithLabelValues(event).Inc()
		return n.park(ctx, pub, queue, d, o.err.Error())
	}

	n.metrics.EventsFailed.WithLabelValues(event).Inc()
	attempts, waits := headerInt(d.Headers, HeaderAttempts), headerInt(d.Headers, HeaderWaits)
	step := waits
	if o.verdict == verdictRetry {
		attempts++
		step = attempts - 1
		if attempts >= n.cfg.MaxAttempts {
			return n.park(ctx, pub, queue, d, fmt.Sprintf("gave up after %d attempts: %v", attempts, o.err))
		}
	} else {
		waits++
	}
	delays := n.cfg.RetryDelays
	delay := delays[min(step, len(delays)-1)]

	headers := copyHeaders(d.Headers)
	headers[HeaderAttempts] = int32(attempts)
	headers[HeaderWaits] = int32(waits)
	headers[topology.RetryHeader] = topology.RetryQueueName(delay)
	// The routing key comes from the queue's binding, not the delivery: a message published
	// straight into the queue would otherwise be dead-lettered back with a key nothing is
	// bound to.
	if err := n.publish(ctx, pub, contract.RetryExchange, event, d, headers); err != nil {
		// Without a confirmed retry, hand the message back to the queue: redelivered now
		// rather than lost.
		_ = d.Nack(false, true)
		return fmt.Errorf("publish retry: %w", err)
	}
	n.log.InfoContext(ctx, "event retried", "queue", queue, "attempts", attempts, "waits", waits, "delay", delay, "err", o.err)
	return d.Ack(false)
}

// park moves the message to the dead-letter exchange with the reason, then acks it. If that
// publish fails it rejects the message instead, which the queue dead-letters (without our
// reason headers, but not lost).
func (n *Notifier) park(ctx context.Context, pub *amqp.Channel, queue string, d amqp.Delivery, reason string) error {
	headers := copyHeaders(d.Headers)
	headers[HeaderReason] = reason
	headers[HeaderQueue] = queue
	n.log.WarnContext(ctx, "event parked in the dead-letter queue", "queue", queue, "reason", reason)
	if err := n.publish(ctx, pub, contract.DeadLetterExchange, d.RoutingKey, d, headers); err != nil {
		_ = d.Reject(false)
		return fmt.Errorf("publish to dead-letter exchange: %w", err)
	}
	return d.Ack(false)
}

// publish republishes d's body and properties with headers and waits for the confirm.
func (n *Notifier) publish(ctx context.Context, pub *amqp.Channel, exchange, key string, d amqp.Delivery, headers amqp.Table) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), confirmTimeout)
	defer cancel()
	dc, err := pub.PublishWithDeferredConfirmWithContext(ctx, exchange, key, false, false, amqp.Publishing{
		Headers:         headers,
		ContentType:     d.ContentType,
		ContentEncoding: d.ContentEncoding,
		DeliveryMode:    amqp.Persistent,
		MessageId:       d.MessageId,
		Timestamp:       d.Timestamp,
		Type:            d.Type,
		AppId:           d.AppId,
		Body:            d.Body,
	})
	if err != nil {
		return err
	}
	ok, err := dc.WaitContext(ctx)
	if err != nil {
		return fmt.Errorf("waiting for confirm: %w", err)
	}
	if !ok {
		return fmt.Errorf("broker refused the message (nack)")
	}
	return nil
}

// copyHeaders copies the message's headers less RabbitMQ's own dead-letter bookkeeping,
// which would otherwise grow with every retry.
func copyHeaders(h amqp.Table) amqp.Table {
	out := amqp.Table{}
	for k, v := range h {
		switch k {
		case "x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
			"x-last-death-exchange", "x-last-death-queue", "x-last-death-reason":
			continue
		}
		out[k] = v
	}
	return out
}

// headerInt reads a counter header whatever integer type the broker or a client gave it.
func headerInt(h amqp.Table, key string) int {
	switch v := h[key].(type) {
	case int:
		return v
	case int8:
		return int(v)
	case int16:
		return int(v)
	case int32:
		return int(v)
	case int64:
		return int(v)
	case uint8:
		return int(v)
	case uint16:
		return int(v)
	case uint32:
		return int(v)
	}
	return 0
}
