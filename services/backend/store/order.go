package store

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Order records a buy. Its _id is the item's id: the unique key that makes the buy claim
// atomic. It keeps a copy of what was bought, so the buyer still sees it after the item
// leaves the shop.
type Order struct {
	ItemID bson.ObjectID `bson:"_id"`
	// BuyerID and SellerID are the account ids (account.go): GET /orders finds a buyer's
	// orders by BuyerID, so an account made later with the same address sees none of them.
	BuyerID     string  `bson:"buyer_id"`
	SellerID    string  `bson:"seller_id"`
	BuyerEmail  string  `bson:"buyer_email"`
	SellerEmail string  `bson:"seller_email"`
	Seller      string  `bson:"seller"` // local part, like Item.Owner
	Name        string  `bson:"name"`
	Price       float64 `bson:"price"`
	// EventID and BoughtAt, with the fields above, are the buy event, written in the same
	// insert as the claim (see outbox.go).
	EventID  string    `bson:"event_id"`
	BoughtAt time.Time `bson:"bought_at"`
	// TraceParent and TraceState are the buy request's trace context (see Item).
	TraceParent string `bson:"traceparent,omitempty"`
	TraceState  string `bson:"tracestate,omitempty"`
	// ItemEventID, ItemCreatedAt and the item's trace context are, with the seller, name
	// and price above, the bought item's add event: a bought item leaves the items
	// collection with its buy (bought.go), possibly before its add event went out, and the
	// relay's recovery then finds that event here (outbox_relay.go). Orders written before
	// this have none.
	ItemEventID     string    `bson:"item_event_id,omitempty"`
	ItemCreatedAt   time.Time `bson:"item_created_at,omitempty"`
	ItemTraceParent string    `bson:"item_traceparent,omitempty"`
	ItemTraceState  string    `bson:"item_tracestate,omitempty"`
}
