package topology_test

import (
	"fmt"
	"reflect"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/topology"
)

// The operator's definitions.json is built from contract.ShopTopology; RabbitMQ refuses a
// service's declaration if any argument differs, so the two must agree exactly.
func TestDeclare_AgreesWithTheContractTable(t *testing.T) {
	want := contract.ShopTopology()
	args := map[string]amqp.Table{}
	for _, b := range topology.WorkQueues {
		args[b.Queue] = topology.QueueArgs(b.Queue)
	}
	for _, d := range topology.DefaultRetryDelays {
		args[topology.RetryQueueName(d)] = topology.RetryQueueArgs(d)
	}
	args[contract.QueueDeadLetter] = nil

	if len(want.Queues) != len(args) {
		t.Errorf("contract has %d queues, Declare declares %d", len(want.Queues), len(args))
	}
	for _, q := range want.Queues {
		got, ok := args[q.Name]
		if !ok {
			t.Errorf("queue %s is in the contract but not declared", q.Name)
			continue
		}
		if !sameArgs(got, q.Arguments) {
			t.Errorf("queue %s: Declare uses %v, contract %v", q.Name, got, q.Arguments)
		}
	}

	declared := map[string]bool{}
	for _, b := range topology.WorkQueues {
		declared[fmt.Sprint(contract.Exchange, b.Queue, b.RoutingKey, amqp.Table(nil))] = true
	}
	declared[fmt.Sprint(contract.DeadLetterExchange, contract.QueueDeadLetter, "", amqp.Table(nil))] = true
	for _, d := range topology.DefaultRetryDelays {
		declared[fmt.Sprint(contract.RetryExchange, topology.RetryQueueName(d), "", topology.RetryQueueBindingArgs(d))] = true
	}
	for _, b := range want.Bindings {
		var a amqp.Table
		if b.Arguments != nil {
			a = amqp.Table(b.Arguments)
		}
		if key := fmt.Sprint(b.Exchange, b.Queue, b.RoutingKey, a); !declared[key] {
			t.Errorf("binding %s -[%s %v]-> %s is in the contract but not declared", b.Exchange, b.RoutingKey, b.Arguments, b.Queue)
		}
	}
	if len(want.Bindings) != len(declared) {
		t.Errorf("contract has %d bindings, Declare declares %d", len(want.Bindings), len(declared))
	}
}

func sameArgs(a amqp.Table, b map[string]any) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(map[string]any(a), b)
}
