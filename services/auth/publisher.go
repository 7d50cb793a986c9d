package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/tracing"
)

// errUnroutable means the broker had no queue for the message: the notifier's verification
// queue (contract.VerifyWorkQueue) is not declared.
var errUnroutable = errors.New("no queue takes it: is " + contract.QueueAccountVerify + " declared?")

// publisher hands messages to RabbitMQ with confirms, one at a time, over a connection it
// opens on first use and again after a failure. Auth publishes only verification mails,
// a few a minute at most: one channel and no pipelining are plenty.
type publisher struct {
	cfg amqpx.Config
	log *slog.Logger

	mu      sync.Mutex
	conn    *amqp.Connection
	ch      *amqp.Channel
	returns chan amqp.Return
}

func newPublisher(cfg amqpx.Config, log *slog.Logger) *publisher {
	return &publisher{cfg: cfg, log: log}
}

// publish sends body to contract.Exchange with routing key key, persistent and mandatory,
// and returns once the broker confirmed it (nil), refused it, or found no queue for it. The
// message carries the request's trace context, through a producer span, to the notifier.
func (p *publisher) publish(ctx context.Context, key, messageID string, body []byte) (err error) {
	ctx, span := tracing.StartPublish(ctx, nil, contract.Exchange, key, messageID)
	defer func() { tracing.End(span, err) }()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.connect(); err != nil {
		return err
	}
	conf, err := p.ch.PublishWithDeferredConfirmWithContext(ctx, contract.Exchange, key, true, false, amqp.Publishing{
		Headers:      tracing.InjectAMQP(ctx, nil),
		ContentType:  "application/json",
		DeliveryMode: amqp.Persistent,
		MessageId:    messageID,
		Timestamp:    time.Now().UTC(),
		Body:         body,
	})
	if err != nil {
		p.reset()
		return fmt.Errorf("publish %s: %w", key, err)
	}
	acked, err := conf.WaitContext(ctx)
	if err != nil {
		p.reset()
		return fmt.Errorf("confirm of %s: %w", key, err)
	}
	if !acked {
		return fmt.Errorf("publish %s: the broker refused it (nack)", key)
	}
	// The broker returns an unroutable mandatory message before it confirms it. Drain every
	// return waiting, so that none can fill the channel and stall the connection.
	for {
		select {
		case r := <-p.returns:
			if r.MessageId == messageID {
				return fmt.Errorf("publish %s: %w", key, errUnroutable)
			}
		default:
			return nil
		}
	}
}

// connect opens the connection and a confirming channel unless they are open.
func (p *publisher) connect() error {
	if p.ch != nil && !p.ch.IsClosed() {
		return nil
	}
	p.reset()
	conn, err := amqpx.Dial(p.cfg, "auth")
	if err != nil {
		return err
	}
	ch, err := conn.Channel()
	if err == nil {
		err = ch.Confirm(false)
	}
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("open a confirming channel: %w", err)
	}
	p.conn, p.ch = conn, ch
	p.returns = ch.NotifyReturn(make(chan amqp.Return, 16))
	return nil
}

// reset drops the connection; the next publish opens another.
func (p *publisher) reset() {
	if p.conn != nil {
		_ = p.conn.Close()
	}
	p.conn, p.ch, p.returns = nil, nil, nil
}

// close ends the connection.
func (p *publisher) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reset()
}
