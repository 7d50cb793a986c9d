package topology_test

import (
	"context"
	"testing"
	"time"

	"github.com/onsi/gomega"
	amqp "github.com/rabbitmq/amqp091-go"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/testinfra"
	"littleecom.io/littleecom/services/internal/topology"
)

func channel(t *testing.T) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(testinfra.AMQPVHost(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// get polls queue until a message arrives or the deadline passes.
func get(t *testing.T, ch *amqp.Channel, queue string, within time.Duration) amqp.Delivery {
	t.Helper()
	return getAck(t, ch, queue, within, true)
}

// getAck polls queue until a message arrives (acknowledged on delivery when autoAck) or
// within has passed, which fails the test.
func getAck(t *testing.T, ch *amqp.Channel, queue string, within time.Duration, autoAck bool) amqp.Delivery {
	t.Helper()
	var d amqp.Delivery
	gomega.NewWithT(t).Eventually(func(g gomega.Gomega) {
		var ok bool
		var err error
		d, ok, err = ch.Get(queue, autoAck)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(ok).To(gomega.BeTrue(), "no message in %s", queue)
	}).WithTimeout(within).WithPolling(20 * time.Millisecond).Should(gomega.Succeed())
	return d
}

func TestDeclare_IsIdempotent(t *testing.T) {
	ch := channel(t)
	for i := range 2 {
		if err := topology.Declare(ch); err != nil {
			t.Fatalf("declare #%d: %v", i+1, err)
		}
	}
	// Declaring again with the contract's table (what the operator's definitions.json holds)
	// succeeds: RabbitMQ would close the channel with PRECONDITION_FAILED on any difference.
	shop := contract.ShopTopology()
	for _, e := range shop.Exchanges {
		if err := ch.ExchangeDeclare(e.Name, e.Kind, true, false, false, false, nil); err != nil {
			t.Fatalf("exchange %s as in the contract: %v", e.Name, err)
		}
	}
	for _, q := range shop.Queues {
		if _, err := ch.QueueDeclare(q.Name, true, false, false, false, amqp.Table(q.Arguments)); err != nil {
			t.Fatalf("queue %s as in the contract: %v", q.Name, err)
		}
	}
}

func TestDeclare_RetryComesBackAndRejectsGoToTheDLQ(t *testing.T) {
	ch := channel(t)
	delay := 200 * time.Millisecond
	if err := topology.DeclareWith(ch, topology.Options{RetryDelays: []time.Duration{delay}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// A retry published with the original routing key returns to the original queue after
	// the delay, and only to it.
	start := time.Now()
	err := ch.PublishWithContext(ctx, contract.RetryExchange, contract.RoutingKeyItemBought, false, false, amqp.Publishing{
		Headers: amqp.Table{topology.RetryHeader: topology.RetryQueueName(delay)},
		Body:    []byte(`{"email":"a@x.test","item":"lamp","price":3}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	d := get(t, ch, contract.QueueItemBought, 3*time.Second)
	if waited := time.Since(start); waited < delay {
		t.Errorf("retry came back after %s, before its delay %s", waited, delay)
	}
	if string(d.Body) != `{"email":"a@x.test","item":"lamp","price":3}` {
		t.Errorf("body = %s", d.Body)
	}
	if _, ok, _ := ch.Get(contract.QueueItemAdded, true); ok {
		t.Error("retry of an item-bought event reached the item-added queue")
	}

	// A message rejected without requeue is dead-lettered into the DLQ.
	if err := ch.PublishWithContext(ctx, contract.Exchange, contract.RoutingKeyItemAdded, false, false, amqp.Publishing{Body: []byte("poison")}); err != nil {
		t.Fatal(err)
	}
	got := getAck(t, ch, contract.QueueItemAdded, 3*time.Second, false)
	if err := got.Reject(false); err != nil {
		t.Fatal(err)
	}
	dl := get(t, ch, contract.QueueDeadLetter, 3*time.Second)
	if string(dl.Body) != "poison" {
		t.Errorf("DLQ body = %q", dl.Body)
	}
}
