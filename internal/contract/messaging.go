package contract

// The messaging topology (README: "The shop's API" and the RabbitMQ definitions the operator
// imports): one durable topic exchange, a durable queue per event.
const (
	Exchange = "ecom-exchange"

	RoutingKeyItemAdded  = "ecom.item.add"
	RoutingKeyItemBought = "ecom.item.buy"

	QueueItemAdded  = "ecom-queue-item-added"
	QueueItemBought = "ecom-queue-item-bought"

	// The notifier retries through a TTL queue that dead-letters back to the exchange, and
	// parks messages it gives up on in the dead-letter queue.
	RetryExchange      = "ecom-retry-exchange"
	DeadLetterExchange = "ecom-dlx"
	QueueDeadLetter    = "ecom-queue-dead-letter"

	// ItemChangesExchange tells the backend's replicas which items one of them wrote, so
	// that they forget their cached copies (services/backend/itemfeed). Each replica reads
	// it through an exclusive queue the broker names (amq.gen-...), which goes with its
	// connection. The operator's definitions declare it (ItemChangesTopology); the backend
	// declares it where it may (make dev, tests).
	ItemChangesExchange = "ecom-item-changes"
)

// ItemChangesTopology is the exchange of ItemChangesExchange, outside ShopTopology: a broker
// whose definitions predate it must hold up only the backend's item cache.
var ItemChangesTopology = TopologyExchange{Name: ItemChangesExchange, Kind: ExchangeKindFanout}

// The backend's RabbitMQ permissions (configure, write, read), which the operator's
// definitions grant: it publishes events and item changes, and declares, binds and reads
// only the queue the broker names for it.
const (
	BackendAMQPConfigure = `^amq\.gen-.*$`
	BackendAMQPWrite     = `^(ecom-exchange|ecom-item-changes|amq\.gen-.*)$`
	BackendAMQPRead      = `^(ecom-item-changes|amq\.gen-.*)$`
)

// ItemEvent is the JSON body of both events, compatible with the original shop
// ({"email","item","price"}) plus additive fields.
type ItemEvent struct {
	Email      string  `json:"email"` // seller for item added, buyer for item bought
	Item       string  `json:"item"`
	Price      float64 `json:"price"`
	EventID    string  `json:"event_id,omitempty"`
	ItemID     string  `json:"item_id,omitempty"`
	Seller     string  `json:"seller,omitempty"` // full e-mail of the seller (item bought)
	OccurredAt string  `json:"occurred_at,omitempty"`
}
