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
