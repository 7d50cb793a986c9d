package backendtest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"littleecom.io/littleecom/internal/contract"
)

// Message is an event read back from a queue.
type Message struct {
	Event      contract.ItemEvent
	Persistent bool
	MessageID  string
}

// Drain returns the messages in queue, waiting until want have arrived or timeout passed,
// then a short while more to catch extras (so a test can assert "exactly n").
func Drain(t testing.TB, amqpURL, queue string, want int, timeout time.Duration) []Message {
	t.Helper()
	conn, err := amqp.Dial(amqpURL)
	if err != nil {
		t.Fatalf("dial rabbitmq: %v", err)
	}
	defer func() { _ = conn.Close() }()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatalf("channel: %v", err)
	}
	var got []Message
	deadline := time.Now().Add(timeout)
	var settle time.Time
	for {
		d, ok, err := ch.Get(queue, true)
		var aerr *amqp.Error
		if errors.As(err, &aerr) && aerr.Code == amqp.NotFound && time.Now().Before(deadline) {
			// Not declared yet: the relay declares it when it first connects.
			time.Sleep(50 * time.Millisecond)
			if ch, err = conn.Channel(); err != nil {
				t.Fatalf("channel: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("get from %s: %v", queue, err)
		}
		if ok {
			var ev contract.ItemEvent
			if err := json.Unmarshal(d.Body, &ev); err != nil {
				t.Fatalf("message body %q: %v", d.Body, err)
			}
			got = append(got, Message{Event: ev, Persistent: d.DeliveryMode == amqp.Persistent, MessageID: d.MessageId})
			continue
		}
		if len(got) >= want && settle.IsZero() {
			settle = time.Now().Add(300 * time.Millisecond)
		}
		if (!settle.IsZero() && time.Now().After(settle)) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}
