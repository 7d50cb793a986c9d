package contract

import "time"

// The broker topology as data: the operator renders its definitions.json from it and the
// services declare it at start (services/internal/topology). RabbitMQ refuses a declaration
// whose type, durability or arguments differ from the existing object's with
// PRECONDITION_FAILED, so both sides take it from here.
//
//	ecom-exchange (topic)        ecom.item.add -> ecom-queue-item-added  {x-dead-letter-exchange: ecom-dlx}
//	                             ecom.item.buy -> ecom-queue-item-bought {x-dead-letter-exchange: ecom-dlx}
//	ecom-dlx (fanout)            -> ecom-queue-dead-letter (no arguments)
//	ecom-retry-exchange (headers) {x-match: all, retry-queue: <q>} -> ecom-queue-retry-<delay>
//	                             {x-message-ttl: <ms>, x-dead-letter-exchange: ecom-exchange}

// Exchange kinds used by the topology.
const (
	ExchangeKindTopic   = "topic"
	ExchangeKindFanout  = "fanout"
	ExchangeKindHeaders = "headers"
)

// Queue and binding argument names.
const (
	ArgDeadLetterExchange = "x-dead-letter-exchange"
	ArgMessageTTL         = "x-message-ttl"
	ArgMatch              = "x-match"
	// RetryHeader is the message header (and headers-exchange binding argument) whose value,
	// a retry queue's name, picks the delay queue of a retry.
	RetryHeader = "retry-queue"
)

// RetryDelays are the back-off steps of the retry queues, shortest first.
var RetryDelays = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute}

// WorkQueue is a queue of item events and the routing key that fills it from Exchange.
type WorkQueue struct {
	Queue      string
	RoutingKey string
}

// WorkQueues are the queues of item events, which the notifier consumes.
var WorkQueues = []WorkQueue{
	{Queue: QueueItemAdded, RoutingKey: RoutingKeyItemAdded},
	{Queue: QueueItemBought, RoutingKey: RoutingKeyItemBought},
}

// RetryQueueName is the retry queue holding messages for delay d, e.g. "ecom-queue-retry-5s".
func RetryQueueName(d time.Duration) string { return "ecom-queue-retry-" + d.String() }

// TopologyExchange is a durable, non-internal exchange without arguments.
type TopologyExchange struct {
	Name string
	Kind string
}

// TopologyQueue is a durable, non-exclusive queue that is never auto-deleted.
type TopologyQueue struct {
	Name      string
	Arguments map[string]any // nil means none; integers are int64
}

// TopologyBinding binds Queue to Exchange.
type TopologyBinding struct {
	Exchange   string
	Queue      string
	RoutingKey string
	Arguments  map[string]any
}

// Topology is every exchange, queue and binding the shop uses, in declaration order.
type Topology struct {
	Exchanges []TopologyExchange
	Queues    []TopologyQueue
	Bindings  []TopologyBinding
}

// ShopTopology returns the topology with the default RetryDelays. Each call returns fresh
// maps and slices, so callers may modify what they get.
func ShopTopology() Topology { return TopologyWith(RetryDelays) }

// TopologyWith is the topology with other retry delays (tests use short ones). The
// dead-letter queue comes first, so a work queue never dead-letters into nothing.
func TopologyWith(retryDelays []time.Duration) Topology {
	t := Topology{
		Exchanges: []TopologyExchange{
			{Name: Exchange, Kind: ExchangeKindTopic},
			{Name: DeadLetterExchange, Kind: ExchangeKindFanout},
			{Name: RetryExchange, Kind: ExchangeKindHeaders},
		},
		Queues:   []TopologyQueue{{Name: QueueDeadLetter}},
		Bindings: []TopologyBinding{{Exchange: DeadLetterExchange, Queue: QueueDeadLetter}},
	}
	for _, w := range WorkQueues {
		t.Queues = append(t.Queues, TopologyQueue{Name: w.Queue, Arguments: map[string]any{
			ArgDeadLetterExchange: DeadLetterExchange,
		}})
		t.Bindings = append(t.Bindings, TopologyBinding{Exchange: Exchange, Queue: w.Queue, RoutingKey: w.RoutingKey})
	}
	for _, d := range retryDelays {
		name := RetryQueueName(d)
		t.Queues = append(t.Queues, TopologyQueue{Name: name, Arguments: map[string]any{
			ArgMessageTTL:         int64(d / time.Millisecond),
			ArgDeadLetterExchange: Exchange,
		}})
		t.Bindings = append(t.Bindings, TopologyBinding{Exchange: RetryExchange, Queue: name, Arguments: map[string]any{
			ArgMatch: "all", RetryHeader: name,
		}})
	}
	return t
}
