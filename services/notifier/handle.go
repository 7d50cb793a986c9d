package notifier

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"littleecom.io/littleecom/services/notifier/store"
)

// verdict is what becomes of a delivery once handled.
type verdict int

const (
	verdictAck   verdict = iota // every e-mail of the event is sent (now or before)
	verdictRetry                // a send failed: retry with back-off, counting an attempt
	verdictWait                 // not the message's fault (claim busy, database down): retry without counting
	verdictPark                 // malformed: to the dead-letter queue now
)

// outcome is a verdict with its cause, for headers and logs.
type outcome struct {
	verdict verdict
	err     error
}

// handle sends the e-mails of one delivery. It never acks; settle does, after handle.
func (n *Notifier) handle(ctx context.Context, queue string, d amqp.Delivery) outcome {
	ev, err := parseEvent(queue, d.MessageId, d.Body)
	if err != nil {
		return outcome{verdictPark, err}
	}
	// A recipient refused for good does not stop the event's other e-mails (the seller
	// still hears of a sale to a mistyped buyer address); the message is parked afterwards.
	var refused []error
	for _, m := range emails(ev) {
		err := n.deliver(ctx, ev, m)
		switch {
		case err == nil:
		case errors.Is(err, errRecipientRefused):
			n.log.WarnContext(ctx, "recipient refused for good", "queue", queue, "event_id", ev.ID, "recipient", m.Kind, "err", err)
			refused = append(refused, err)
		case errors.Is(err, errBusy) || errors.Is(err, errStore):
			n.log.WarnContext(ctx, "e-mail not sent", "queue", queue, "event_id", ev.ID, "recipient", m.Kind, "err", err)
			return outcome{verdictWait, err}
		default:
			n.log.WarnContext(ctx, "e-mail not sent", "queue", queue, "event_id", ev.ID, "recipient", m.Kind, "err", err)
			return outcome{verdictRetry, err}
		}
	}
	if len(refused) > 0 {
		return outcome{verdictPark, joinErrors(refused)}
	}
	return outcome{verdictAck, nil}
}

// joinErrors is errors.Join on one line, for the reason header of a parked message.
func joinErrors(errs []error) error {
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return fmt.Errorf("%w: %s", errRecipientRefused, strings.Join(msgs, "; "))
}

// errBusy is returned by deliver when another worker holds a live claim.
var errBusy = errors.New("another worker is sending this e-mail")

// errStore marks a failure of the dedup store: retried without counting an attempt, since
// the message is fine and sending without a claim could send twice.
var errStore = errors.New("dedup store")

// claimKey names the claim of one event's e-mail to one kind of recipient.
func claimKey(eventID string, kind recipientKind) string { return eventID + "/" + string(kind) }

// deliver sends m once for the event: claim, send, mark sent (see store/claims.go).
func (n *Notifier) deliver(ctx context.Context, ev event, m email) error {
	key := claimKey(ev.ID, m.Kind)
	cl, res, err := n.claims.Claim(ctx, key, m.To)
	if err != nil {
		return fmt.Errorf("%w: %w", errStore, err)
	}
	switch res {
	case store.ClaimDone:
		n.log.DebugContext(ctx, "e-mail already sent", "key", key)
		return nil
	case store.ClaimBusy:
		return errBusy
	}

	if n.hooks.afterClaim != nil {
		if err := n.hooks.afterClaim(key); err != nil {
			return err // a simulated crash: the claim stays pending, as a dead process leaves it
		}
	}
	msg := compose(n.cfg.SMTP.From, m, ev.ID, time.Now())
	if err := n.sendTraced(ctx, m, msg); err != nil {
		n.metrics.EmailsFailed.Inc()
		// The claim is released with a context of its own: the delivery's may be ending.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if rerr := n.claims.Release(rctx, cl); rerr != nil {
			n.log.WarnContext(ctx, "releasing claim failed; the retry waits for the lease", "key", key, "err", rerr)
		}
		return fmt.Errorf("send %s to %s: %w", m.Kind, m.To, err)
	}
	n.metrics.EmailsSent.Inc()
	if n.hooks.afterSend != nil {
		n.hooks.afterSend(key)
	}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := n.claims.MarkSent(mctx, cl, m.To); err != nil {
		// The mail went out and the message will be acked, so no redelivery follows; only a
		// duplicate publish after the lease could send it again. Nothing better to do.
		n.log.ErrorContext(ctx, "e-mail sent but not recorded", "key", key, "err", err)
	}
	return nil
}
