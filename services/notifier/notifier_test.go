package notifier_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/notifier"
)

func TestItemAdded_MailsTheSeller(t *testing.T) {
	r := newRig(t)
	r.start(r.config())
	r.publishEvent(contract.RoutingKeyItemAdded, contract.ItemEvent{
		Email: "ann@example.test", Item: "Brass lamp", Price: 12.5, EventID: "ev-1",
	})
	m := r.waitMail(1, 10*time.Second)[0]
	if got := strings.Join(m.To, ","); got != "ann@example.test" {
		t.Errorf("to = %q, want the seller", got)
	}
	if !strings.Contains(m.From, "no-reply@littleecom.test") {
		t.Errorf("from = %q", m.From)
	}
	for _, want := range []string{"Brass lamp", "12.50"} {
		if !strings.Contains(m.Subject, want) || !strings.Contains(m.Body, want) {
			t.Errorf("subject %q / body %q lack %q", m.Subject, m.Body, want)
		}
	}
	eventually(t, 5*time.Second, "the event to be acked", func() bool { return r.consumed(contract.RoutingKeyItemAdded) == 1 })
}

func TestItemBought_MailsBuyerAndSeller(t *testing.T) {
	r := newRig(t)
	r.start(r.config())
	r.publishEvent(contract.RoutingKeyItemBought, contract.ItemEvent{
		Email: "bob@example.test", Seller: "ann@example.test", Item: "Café table", Price: 80, EventID: "ev-2",
	})
	got := byRecipient(r.waitMail(2, 10*time.Second))
	buyer, seller := got["bob@example.test"], got["ann@example.test"]
	if len(buyer) != 1 || len(seller) != 1 {
		t.Fatalf("mails by recipient = %v", got)
	}
	if !strings.Contains(buyer[0].Subject, "Order confirmation") || !strings.Contains(buyer[0].Body, "Café table") ||
		!strings.Contains(buyer[0].Body, "80.00") {
		t.Errorf("buyer mail: %q / %q", buyer[0].Subject, buyer[0].Body)
	}
	if !strings.Contains(seller[0].Subject, "Sold") || !strings.Contains(seller[0].Subject, "Café table") ||
		!strings.Contains(seller[0].Body, "bob@example.test") {
		t.Errorf("seller mail: %q / %q", seller[0].Subject, seller[0].Body)
	}

	// An old publisher's event without a seller still confirms to the buyer.
	r.publish(contract.RoutingKeyItemBought, []byte(`{"email":"cy@example.test","item":"mug","price":3}`))
	m := r.waitMail(3, 10*time.Second)[2]
	if strings.Join(m.To, ",") != "cy@example.test" {
		t.Errorf("to = %v", m.To)
	}
}

func TestSMTPTemporarilyFailing_RetriedWithBackoffThenDelivered(t *testing.T) {
	r := newRig(t)
	r.sink.FailNext(2) // the first two attempts get a 451
	r.start(r.config())
	start := time.Now()
	r.publishEvent(contract.RoutingKeyItemAdded, contract.ItemEvent{Email: "ann@example.test", Item: "lamp", Price: 1, EventID: "ev-3"})
	r.waitMail(1, 10*time.Second)
	if took, min := time.Since(start), testDelays[0]+testDelays[1]; took < min {
		t.Errorf("delivered after %s: the two retries should have waited at least %s", took, min)
	}
	eventually(t, 5*time.Second, "the ack", func() bool { return r.consumed(contract.RoutingKeyItemAdded) == 1 })
	if n := r.sink.Count(); n != 1 {
		t.Errorf("%d mails, want 1", n)
	}
	if dl := r.deadLetters(); len(dl) != 0 {
		t.Errorf("%d messages in the DLQ, want none", len(dl))
	}
}

func TestSMTPPermanentlyFailing_ParkedInDLQAfterMaxAttempts(t *testing.T) {
	r := newRig(t)
	r.sink.SetFailing(true)
	cfg := r.config()
	r.start(cfg)
	r.publishEvent(contract.RoutingKeyItemAdded, contract.ItemEvent{Email: "ann@example.test", Item: "lamp", Price: 1, EventID: "ev-4"})

	var parked []string
	eventually(t, 10*time.Second, "the message in the DLQ", func() bool {
		for _, d := range r.deadLetters() {
			parked = append(parked, fmt.Sprint(d.Headers[notifier.HeaderReason]))
			if string(d.Body) == "" {
				t.Error("parked message lost its body")
			}
		}
		return len(parked) > 0
	})
	want := fmt.Sprintf("gave up after %d attempts", cfg.MaxAttempts)
	if len(parked) != 1 || !strings.Contains(parked[0], want) {
		t.Fatalf("parked = %q, want one with %q", parked, want)
	}
	if n := r.sink.Count(); n != 0 {
		t.Errorf("%d mails from a failing server", n)
	}
	// Nothing is left cycling through the retry queues.
	time.Sleep(3 * testDelays[len(testDelays)-1])
	if d := r.queueDepth(contract.QueueItemAdded); d != 0 {
		t.Errorf("%d messages still in the work queue", d)
	}
}

// A 550 to RCPT TO will not change on a retry: the event's other e-mails go out, and the
// message goes to the DLQ at once, not after every retry delay.
func TestRecipientRefused_OtherMailSentThenParkedAtOnce(t *testing.T) {
	r := newRig(t)
	r.sink.RefuseRecipient("nobody@example.test")
	r.start(r.config())
	r.publishEvent(contract.RoutingKeyItemBought, contract.ItemEvent{
		Email: "nobody@example.test", Seller: "ann@example.test", Item: "lamp", Price: 1, EventID: "ev-550",
	})
	var parked []amqp.Delivery
	eventually(t, 10*time.Second, "the message in the DLQ", func() bool {
		parked = append(parked, r.deadLetters()...)
		return len(parked) > 0
	})
	if len(parked) != 1 {
		t.Fatalf("%d parked messages, want 1", len(parked))
	}
	reason := fmt.Sprint(parked[0].Headers[notifier.HeaderReason])
	if !strings.Contains(reason, "550") || !strings.Contains(reason, "nobody@example.test") {
		t.Errorf("reason %q: want the server's 550 for the refused address", reason)
	}
	if n, ok := parked[0].Headers[notifier.HeaderAttempts]; ok && fmt.Sprint(n) != "0" {
		t.Errorf("parked after %v attempts, want at once", n)
	}
	got := byRecipient(r.sink.Messages())
	if len(got["ann@example.test"]) != 1 || len(got) != 1 {
		t.Fatalf("mails by recipient = %v, want the seller's notice only", got)
	}
	if sent, failed := r.counter(r.metrics.EmailsSent), r.counter(r.metrics.EmailsFailed); sent != 1 || failed != 1 {
		t.Errorf("littleecom_emails_sent_total = %v, littleecom_emails_failed_total = %v; want 1 and 1", sent, failed)
	}
}

// A message whose handling panics (a bug) is parked with the panic as its reason, and the
// notifier goes on with the next message instead of crashing on every redelivery.
func TestHandlerPanic_ParkedAndTheNotifierGoesOn(t *testing.T) {
	r := newRig(t)
	r.start(r.config(), func(n *notifier.Notifier) {
		notifier.SetHooks(n, func(key string) error {
			if strings.HasPrefix(key, "ev-boom/") {
				panic("a bug this event triggers")
			}
			return nil
		}, nil)
	})
	r.publishEvent(contract.RoutingKeyItemAdded, contract.ItemEvent{Email: "ann@example.test", Item: "lamp", Price: 1, EventID: "ev-boom"})
	r.publishEvent(contract.RoutingKeyItemAdded, contract.ItemEvent{Email: "bob@example.test", Item: "rug", Price: 2, EventID: "ev-fine"})
	var parked []amqp.Delivery
	eventually(t, 10*time.Second, "the panicking message in the DLQ", func() bool {
		parked = append(parked, r.deadLetters()...)
		return len(parked) > 0
	})
	if reason := fmt.Sprint(parked[0].Headers[notifier.HeaderReason]); !strings.Contains(reason, "a bug this event triggers") {
		t.Errorf("reason %q: want the panic", reason)
	}
	if m := r.waitMail(1, 10*time.Second); len(m) != 1 || m[0].To[0] != "bob@example.test" {
		t.Fatalf("mails = %+v, want bob's only", m)
	}
}

func TestMalformedMessage_StraightToDLQ(t *testing.T) {
	r := newRig(t)
	r.start(r.config())
	bad := map[string]string{
		"not json":      `{"email":`,
		"missing email": `{"item":"lamp","price":1}`,
		"missing item":  `{"email":"ann@example.test","price":1}`,
		"bad address":   `{"email":"ann@@example","item":"lamp","price":1}`,
	}
	for _, body := range bad {
		r.publish(contract.RoutingKeyItemAdded, []byte(body))
	}
	// A good event behind them still goes out: poison does not block the queue.
	r.publishEvent(contract.RoutingKeyItemAdded, contract.ItemEvent{Email: "ann@example.test", Item: "lamp", Price: 1, EventID: "ev-5"})
	r.waitMail(1, 10*time.Second)

	var reasons []string
	eventually(t, 5*time.Second, "all bad messages in the DLQ", func() bool {
		for _, d := range r.deadLetters() {
			reasons = append(reasons, fmt.Sprint(d.Headers[notifier.HeaderReason]))
			if q := d.Headers[notifier.HeaderQueue]; q != contract.QueueItemAdded {
				t.Errorf("parked from queue %v", q)
			}
			if a, _ := d.Headers[notifier.HeaderAttempts].(int32); a != 0 {
				t.Errorf("malformed message was retried %d times", a)
			}
		}
		return len(reasons) >= len(bad)
	})
	for what := range bad {
		word := strings.TrimPrefix(what, "not ")
		word = strings.Split(word, " ")[len(strings.Split(word, " "))-1]
		found := false
		for _, reason := range reasons {
			if strings.Contains(strings.ToLower(reason), word) {
				found = true
			}
		}
		if !found {
			t.Errorf("no DLQ reason mentions %q: %q", word, reasons)
		}
	}
	if n := r.sink.Count(); n != 1 {
		t.Errorf("%d mails, want 1", n)
	}
}

// The notifier is cut off after the server accepted the mail but before the ack: the
// message is redelivered (to the reconnected notifier) and must not send a second mail.
func TestKilledBeforeAck_RedeliveredStillOneMail(t *testing.T) {
	r := newRig(t)
	var kills atomic.Int32
	r.start(r.config(), func(n *notifier.Notifier) {
		notifier.SetHooks(n, nil, func(string) {
			if kills.Add(1) == 1 {
				notifier.KillConnection(n)
			}
		})
	})
	r.publishEvent(contract.RoutingKeyItemBought, contract.ItemEvent{
		Email: "bob@example.test", Seller: "ann@example.test", Item: "lamp", Price: 4, EventID: "ev-6",
	})
	eventually(t, 10*time.Second, "the redelivered event to be acked", func() bool {
		return r.consumed(contract.RoutingKeyItemBought) == 1
	})
	// consumed counts successful acks only, and the first delivery's ack failed on the
	// dead connection: the ack we waited for is the redelivery's.
	if d := r.queueDepth(contract.QueueItemBought); d != 0 {
		t.Errorf("%d messages left in the queue", d)
	}
	got := byRecipient(r.sink.Messages())
	if len(got["bob@example.test"]) != 1 || len(got["ann@example.test"]) != 1 || len(got) != 2 {
		t.Fatalf("mails by recipient = %v, want exactly one each", got)
	}
}

// The notifier dies after claiming but before sending: the redelivery finds a pending claim,
// waits out the lease, takes it over and sends the one mail.
func TestKilledAfterClaim_LeaseRetakenAndMailSentOnce(t *testing.T) {
	r := newRig(t)
	var kills atomic.Int32
	cfg := r.config()
	r.start(cfg, func(n *notifier.Notifier) {
		notifier.SetHooks(n, func(string) error {
			if kills.Add(1) == 1 {
				notifier.KillConnection(n)
				return errors.New("simulated crash between claim and send")
			}
			return nil
		}, nil)
	})
	r.publishEvent(contract.RoutingKeyItemAdded, contract.ItemEvent{Email: "ann@example.test", Item: "lamp", Price: 4, EventID: "ev-7"})
	eventually(t, 15*time.Second, "the event to be acked", func() bool { return r.consumed(contract.RoutingKeyItemAdded) == 1 })
	if n := r.sink.Count(); n != 1 {
		t.Fatalf("%d mails, want 1", n)
	}
}

func TestDuplicatePublish_OneMailPerEvent(t *testing.T) {
	r := newRig(t)
	r.start(r.config())
	for range 5 {
		r.publishEvent(contract.RoutingKeyItemAdded, contract.ItemEvent{Email: "ann@example.test", Item: "lamp", Price: 1, EventID: "ev-8"})
	}
	// Without event_id (an old publisher), the same body is the same event.
	for range 3 {
		r.publish(contract.RoutingKeyItemAdded, []byte(`{"email":"dan@example.test","item":"rug","price":9}`))
	}
	eventually(t, 15*time.Second, "all 8 messages acked", func() bool { return r.consumed(contract.RoutingKeyItemAdded) == 8 })
	got := byRecipient(r.sink.Messages())
	if len(got["ann@example.test"]) != 1 || len(got["dan@example.test"]) != 1 || len(got) != 2 {
		t.Fatalf("mails by recipient = %v, want one each", got)
	}
}

// FerretDB has no TTL indexes: the notifier deletes claims past the dedup window itself, so
// its collections do not grow for ever.
func TestClaimsPastRetention_PurgedWithoutTTLIndexes(t *testing.T) {
	r := newRig(t)
	cfg := r.config()
	cfg.ClaimRetention = 2 * time.Second
	cfg.ClaimPurgeEvery = 100 * time.Millisecond
	r.start(cfg)
	r.publishEvent(contract.RoutingKeyItemBought, contract.ItemEvent{
		Email: "bob@example.test", Seller: "ann@example.test", Item: "rug", Price: 3, EventID: "ev-purge",
	})
	r.waitMail(2, 10*time.Second)
	count := func(coll string) int64 {
		n, err := r.db.Collection(coll).CountDocuments(t.Context(), bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Within the window they are kept: that is the dedup.
	eventually(t, time.Second, "both e-mails' claims and sent markers", func() bool {
		return count("email_claims") == 2 && count("email_sent") == 2
	})
	eventually(t, 10*time.Second, "claims and sent markers purged", func() bool {
		return count("email_claims") == 0 && count("email_sent") == 0
	})
}

func TestGracefulShutdown_FinishesInFlightMessages(t *testing.T) {
	r := newRig(t)
	r.sink.SetDelay(300 * time.Millisecond)
	cfg := r.config()
	cfg.Workers = 3
	var inFlight atomic.Int32
	n := r.start(cfg, func(n *notifier.Notifier) {
		notifier.SetHooks(n, func(string) error { inFlight.Add(1); return nil }, nil)
	})
	const events = 12
	for i := range events {
		r.publishEvent(contract.RoutingKeyItemAdded, contract.ItemEvent{
			Email: fmt.Sprintf("u%d@example.test", i), Item: "lamp", Price: 1, EventID: fmt.Sprintf("ev-9-%d", i),
		})
	}
	eventually(t, 10*time.Second, "messages in flight", func() bool { return inFlight.Load() > 0 })
	n.stop(t)

	// Every message a worker held was sent and acked; the rest went back to the queue.
	sent, acked := r.sink.Count(), r.consumed(contract.RoutingKeyItemAdded)
	if sent == 0 || sent != acked || int(inFlight.Load()) != sent {
		t.Fatalf("after stop: %d claimed, %d sent, %d acked", inFlight.Load(), sent, acked)
	}
	if sent == events {
		t.Fatalf("all %d sent before the stop took effect: the test proves nothing", events)
	}
	eventually(t, 5*time.Second, "the rest back in the queue", func() bool {
		return r.queueDepth(contract.QueueItemAdded) == events-sent
	})

	// A new notifier sends the rest, once each.
	r.sink.SetDelay(0)
	r.start(cfg)
	got := byRecipient(r.waitMail(events, 15*time.Second))
	for i := range events {
		if k := fmt.Sprintf("u%d@example.test", i); len(got[k]) != 1 {
			t.Errorf("%s got %d mails", k, len(got[k]))
		}
	}
}

// A consumer the broker cancels (its queue deleted by hand) ends the session; the notifier
// reconnects, declares the topology again and consumes on.
func TestQueueDeleted_NotifierRedeclaresAndConsumesOn(t *testing.T) {
	r := newRig(t)
	n := r.start(r.config())
	eventually(t, 10*time.Second, "connected", func() bool { return n.Ready(t.Context()) == nil })
	if _, err := r.pub.QueueDelete(contract.QueueItemAdded, false, false, false); err != nil {
		t.Fatal(err)
	}
	// Wait for the notifier's consumer, not just the queue: the consumer starts only after
	// the whole topology (the queue's binding included) was declared again, so a message
	// published earlier could still be routed nowhere.
	eventually(t, 10*time.Second, "the queue declared again and consumed", func() bool {
		ch, err := r.conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = ch.Close() }()
		q, err := ch.QueueDeclarePassive(contract.QueueItemAdded, true, false, false, false, nil)
		return err == nil && q.Consumers > 0
	})
	r.publishEvent(contract.RoutingKeyItemAdded, contract.ItemEvent{Email: "ann@example.test", Item: "lamp", Price: 1, EventID: "ev-10"})
	r.waitMail(1, 10*time.Second)
}

// Auth's verification mails come through their own queue: one mail with the link, once per
// event however often it is delivered.
func TestNotifier_SendsVerificationMails(t *testing.T) {
	r := newRig(t)
	n := r.start(r.config())
	eventually(t, 10*time.Second, "the notifier consumes", func() bool { return n.Ready(t.Context()) == nil })
	link := "https://shop.example/auth/verify?token=" + strings.Repeat("x", 120)
	body, _ := json.Marshal(contract.AccountEvent{Email: "Ann@Example.test", Link: link, EventID: "verify-1"})
	r.publish(contract.RoutingKeyAccountVerify, body)
	r.publish(contract.RoutingKeyAccountVerify, body) // a second publish of the same event
	got := r.waitMail(1, 10*time.Second)
	m := got[0]
	if len(m.To) != 1 || m.To[0] != "ann@example.test" || !strings.Contains(m.Subject, "Confirm your e-mail address") ||
		!strings.Contains(m.Body, link) {
		t.Fatalf("mail = %+v", m)
	}
	eventually(t, 5*time.Second, "both deliveries consumed", func() bool { return r.consumed(contract.RoutingKeyAccountVerify) == 2 })
	if c := r.sink.Count(); c != 1 {
		t.Errorf("%d mails for one event, want 1", c)
	}
}
