package topology_test

import (
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/testinfra"
	"littleecom.io/littleecom/services/internal/topology"
)

func dial(t *testing.T, url string) *amqp.Connection {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// The operator's users may not configure anything (configure "^$"): the topology its
// definitions declared must be accepted through passive checks alone.
func TestEnsure_LeastPrivilegeUserAcceptsExistingTopology(t *testing.T) {
	vhost := testinfra.AMQPVHost(t)
	if err := topology.Ensure(dial(t, vhost), topology.Options{}); err != nil {
		t.Fatalf("declaring as admin: %v", err)
	}
	publisher := testinfra.AMQPUser(t, vhost, testinfra.Permissions{Configure: "^$", Write: "^ecom-exchange$", Read: "^$"})
	conn := dial(t, publisher)
	if err := topology.Ensure(conn, topology.Options{}); err != nil {
		t.Fatalf("a least-privilege user was refused an existing topology: %v", err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Publish(contract.Exchange, contract.RoutingKeyItemAdded, false, false, amqp.Publishing{Body: []byte("{}")}); err != nil {
		t.Fatalf("publish after Ensure: %v", err)
	}
}

func TestEnsure_DeclaresOnAFreshVHost(t *testing.T) {
	conn := dial(t, testinfra.AMQPVHost(t))
	if err := topology.Ensure(conn, topology.Options{}); err != nil {
		t.Fatal(err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclarePassive(contract.QueueItemBought, true, false, false, false, topology.QueueArgs(contract.QueueItemBought)); err != nil {
		t.Fatalf("queue not declared: %v", err)
	}
}

func TestEnsure_SaysWhatIsMissingWhenItMayNotDeclare(t *testing.T) {
	vhost := testinfra.AMQPVHost(t)
	user := testinfra.AMQPUser(t, vhost, testinfra.Permissions{Configure: "^$", Write: ".*", Read: ".*"})
	err := topology.Ensure(dial(t, user), topology.Options{})
	if err == nil || !strings.Contains(err.Error(), contract.Exchange+" is missing") {
		t.Fatalf("err = %v, want a message naming the missing exchange", err)
	}
}
