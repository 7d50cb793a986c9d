package store

import (
	"strings"
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
	// OwnerEmail is the seller's full e-mail; permission checks use it, never Owner, because
	// two sellers on different domains can share a local part.
	OwnerEmail string  `bson:"owner_email"`
	Name       string  `bson:"name"`
	Price      float64 `bson:"price"`
	Status     string  `bson:"status"`
	// EventID and CreatedAt, with the fields above, are the item's add event, written in
	// the same insert as the item (see outbox.go).
	EventID   string    `bson:"event_id"`
	CreatedAt time.Time `bson:"created_at"`
	UpdatedAt time.Time `bson:"updated_at"`
}

// Field names of item and order documents that queries, projections and indexes use; they
// are the bson tags of Item and Order.
const (
	fieldOwner      = "owner"
	fieldOwnerEmail = "owner_email"
	fieldEventID    = "event_id"
	fieldName       = "name"
	fieldPrice      = "price"
	fieldStatus     = "status"
	fieldBuyerEmail = "buyer_email"
	fieldUpdatedAt  = "updated_at"
	fieldCreatedAt  = "created_at"
	fieldBoughtAt   = "bought_at"
)

// OwnerName returns the local part of an e-mail address.
func OwnerName(email string) string {
	local, _, _ := strings.Cut(email, "@")
	return local
}

// ParseID parses a 24-hex item id.
func ParseID(s string) (bson.ObjectID, error) {
	return bson.ObjectIDFromHex(s)
}

// sameEmail compares addresses as auth stores them (normalized), forgiving case in case a
// token predates normalization.
func sameEmail(a, b string) bool { return strings.EqualFold(a, b) }
