package store

import (
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/services/internal/mailaddr"
)

// Ownership rests on the account, not on its address. An address can pass from one person to
// another (an account deleted and its address registered again); an account id never does.
// So items and orders record the seller's and the buyer's account id (owner_id, buyer_id,
// seller_id), the subject of the access token auth issued, and the store compares those ids
// exactly. The address is kept beside them for the e-mails and for `owner`, its local part.
//
// Items and orders written before this rule carried only the address. MigrateOwners gives
// them an owner key made from the address ("email:<address>", legacyKey); such a key is held
// by the account with that address that existed when the document was written: an account
// created later (the address registered again after a deletion) is a stranger to it. Auth's
// account ids are MongoDB ObjectIDs, which carry their creation second, so the token's
// subject alone says when its account was made (Account.Since).

// Account is the caller, as its access token says: auth's account id and the account's
// canonical address.
type Account struct {
	// ID is the token's subject, compared exactly.
	ID string
	// Email is the canonical address (mailaddr.Canonical).
	Email string
	// Since is when the account was made, read from its id; zero when the id says nothing,
	// and then the account holds no document written before ids were recorded.
	Since time.Time
}

// NewAccount is the Account of a token's subject and canonical e-mail.
func NewAccount(id, email string) Account {
	a := Account{ID: id, Email: email}
	if oid, err := bson.ObjectIDFromHex(id); err == nil {
		a.Since = oid.Timestamp()
	}
	return a
}

// legacyPrefix starts the owner key of a document written before owners were account ids.
const legacyPrefix = "email:"

// legacyClockSkew forgives auth's and the backend's clocks for disagreeing: an account made
// on auth's clock may list an item on the backend's clock an instant "earlier".
const legacyClockSkew = time.Minute

// legacyKey is the owner key MigrateOwners gives a document that names only an address.
// An address without a canonical form stays as it was, so that no canonical caller ever
// matches it (a look-alike account's old listings belong to no one).
func legacyKey(email string) string {
	if c, err := mailaddr.Canonical(email); err == nil {
		return legacyPrefix + c
	}
	return legacyPrefix + email
}

// holds reports whether a holds the owner key key of a document written at at.
func (a Account) holds(key string, at time.Time) bool {
	if a.ID != "" && key == a.ID {
		return true
	}
	if !strings.HasPrefix(key, legacyPrefix) || a.Since.IsZero() || a.Email == "" {
		return false
	}
	return key == legacyPrefix+a.Email && !at.Before(a.Since.Add(-legacyClockSkew))
}

// ownerKey is the item's owner key; for an item a backend of the previous version wrote
// after the migration ran (a rolling upgrade), the key its address gives.
func (it Item) ownerKey() string {
	if it.OwnerID != "" {
		return it.OwnerID
	}
	return legacyKey(it.OwnerEmail)
}

// ownedBy reports whether a sells it.
func (it Item) ownedBy(a Account) bool { return a.holds(it.ownerKey(), it.CreatedAt) }
