package store

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Item statuses. Only available items are listed, shown and bought.
const (
	StatusAvailable = "available"
	StatusSold      = "sold"
	StatusDeleted   = "deleted"
)

// Item is one thing for sale.
type Item struct {
	ID bson.ObjectID `bson:"_id"`
	// Owner is the local part of the seller's e-mail, as the original shop showed it.
	Owner string `bson:"owner"`
	// OwnerID is the seller's account id, which permission checks compare (account.go);
	// "email:<address>" for an item listed before owners were account ids.
	OwnerID string `bson:"owner_id"`
	// OwnerEmail is the seller's canonical e-mail, where the notifier writes.
	OwnerEmail string  `bson:"owner_email"`
	Name       string  `bson:"name"`
	Price      float64 `bson:"price"`
	Status     string  `bson:"status"`
	// EventID and CreatedAt, with the fields above, are the item's add event, written in
	// the same insert as the item (see outbox.go).
	EventID   string    `bson:"event_id"`
	CreatedAt time.Time `bson:"created_at"`
	UpdatedAt time.Time `bson:"updated_at"`
	// TraceParent and TraceState are the W3C trace context of the request that listed the
	// item, so that the event's publication, even a recovered one, continues its trace.
	TraceParent string `bson:"traceparent,omitempty"`
	TraceState  string `bson:"tracestate,omitempty"`
}

// Field names of item and order documents that queries, projections and indexes use; they
// are the bson tags of Item and Order.
const (
	fieldOwner      = "owner"
	fieldOwnerID    = "owner_id"
	fieldOwnerEmail = "owner_email"
	fieldBuyerID    = "buyer_id"
	fieldSellerID   = "seller_id"
	fieldSellerMail = "seller_email"
	fieldEventID    = "event_id"
	fieldTraceP     = "traceparent"
	fieldTraceS     = "tracestate"
	fieldName       = "name"
	fieldPrice      = "price"
	fieldStatus     = "status"
	fieldBuyerEmail = "buyer_email"
	fieldUpdatedAt  = "updated_at"
	fieldCreatedAt  = "created_at"
	fieldBoughtAt   = "bought_at"
)

// ParseID parses a 24-hex item id.
func ParseID(s string) (bson.ObjectID, error) {
	return bson.ObjectIDFromHex(s)
}
