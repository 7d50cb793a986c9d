// Package accountdeletion is how the backend learns that auth deleted an account. Auth
// records each deletion in contract.CollAccountDeletions of its own database before it
// deletes the account; the backend reads the records (it may only find in that collection),
// takes the account's unsold listings off sale and refuses the access tokens the account
// still holds. The records outlive every access token (whose TTL is at most a day) by far,
// so a backend that was down for days still learns of every deletion.
package accountdeletion

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"littleecom.io/littleecom/internal/contract"
)

// Retention is how long a record is kept.
const Retention = 30 * 24 * time.Hour

// Field names of Record, for queries and indexes.
const (
	FieldDeletedAt = "deleted_at"
	FieldExpiresAt = "expires_at"
)

// Record is one deleted account.
type Record struct {
	// AccountID is the account's id, the subject of its access tokens.
	AccountID string `bson:"_id"`
	// Email is the account's canonical address: listings from before owners were keyed by
	// account id carry only that.
	Email     string    `bson:"email"`
	DeletedAt time.Time `bson:"deleted_at"`
	ExpiresAt time.Time `bson:"expires_at"`
}

// Collection is where auth records deletions, on the client of either service.
func Collection(client *mongo.Client) *mongo.Collection {
	return client.Database(contract.DatabaseAuth).Collection(contract.CollAccountDeletions)
}
