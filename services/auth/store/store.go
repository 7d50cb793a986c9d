package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/accountdeletion"
	"littleecom.io/littleecom/services/internal/mongox"
)

// Collection names in contract.DatabaseAuth.
const (
	CollUsers           = "users"
	CollRefreshTokens   = "refresh_tokens"
	CollRevokedFamilies = "revoked_families"
	// CollLimitSlots holds the abuse limits' slots (limiter.go).
	CollLimitSlots = "limit_slots"
)

// Field names that queries and indexes use; they are the bson tags of User, RefreshToken and
// revokedFamily.
const (
	fieldEmail         = "email"
	fieldExpiresAt     = "expires_at"
	fieldEmailVerified = "email_verified"
)

// Errors the Store's lookups and inserts return for the cases callers handle.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("duplicate key")
)

// User is an account. The e-mail is stored canonical (mailaddr.Canonical) and unique. The
// id is the account's identity, which access tokens carry as their subject and the backend
// compares owners by: an address can pass to another person (a deleted account's address
// registered again), an id never does.
type User struct {
	ID           bson.ObjectID `bson:"_id"`
	Email        string        `bson:"email"`
	PasswordHash []byte        `bson:"password_hash"`
	CreatedAt    time.Time     `bson:"created_at"`
	// EmailVerified is false while a new account has not followed its verification link
	// (verification on); absent (nil) for accounts made without verification, which count
	// as verified.
	EmailVerified *bool `bson:"email_verified,omitempty"`
}

// Verified reports whether the account may sign in.
func (u User) Verified() bool { return u.EmailVerified == nil || *u.EmailVerified }

// RefreshToken is one opaque refresh token, stored by the SHA-256 of its value so that a
// database dump grants nothing. Parent is the hash of the token it replaced ("root:<family>"
// for the first of a family); its unique index makes each token rotatable exactly once.
type RefreshToken struct {
	Hash      string        `bson:"_id"`
	Parent    string        `bson:"parent"`
	Family    string        `bson:"family"`
	UserID    bson.ObjectID `bson:"user_id"`
	ExpiresAt time.Time     `bson:"expires_at"`
	CreatedAt time.Time     `bson:"created_at"`
}

// revokedFamily marks a family whose tokens must all be refused; it outlives every token of
// the family (ExpiresAt = revocation + refresh TTL) and then expires by TTL index.
type revokedFamily struct {
	Family    string    `bson:"_id"`
	Reason    string    `bson:"reason"`
	ExpiresAt time.Time `bson:"expires_at"`
}

// Store is auth's MongoDB access: accounts, refresh tokens and their revoked families, the
// abuse limits' slots (limiter.go) and the records of deleted accounts for the backend. It is
// safe for concurrent use.
type Store struct {
	users, tokens, revoked *mongo.Collection
	// slots holds the abuse limits' slots (limiter.go).
	slots *mongo.Collection
	// deletions records deleted accounts for the backend (accountdeletion).
	deletions *mongo.Collection
}

// New returns the Store on auth's database db.
func New(db *mongo.Database) *Store {
	return &Store{
		users:     db.Collection(CollUsers),
		tokens:    db.Collection(CollRefreshTokens),
		revoked:   db.Collection(CollRevokedFamilies),
		slots:     db.Collection(CollLimitSlots),
		deletions: db.Collection(contract.CollAccountDeletions),
	}
}

// EnsureIndexes creates the indexes the service relies on; it is idempotent, so every
// replica runs it at start. It reports whether the server supports TTL indexes: FerretDB v1
// does not, and then the service purges expired documents itself (auth.Service.PurgeLoop).
func (s *Store) EnsureIndexes(ctx context.Context) (ttlSupported bool, err error) {
	sets := []struct {
		coll   *mongo.Collection
		models []mongo.IndexModel
	}{
		{s.users, []mongo.IndexModel{
			{Keys: bson.D{{Key: fieldEmail, Value: 1}}, Options: options.Index().SetUnique(true).SetName("email_unique")},
		}},
		{s.tokens, []mongo.IndexModel{
			{Keys: bson.D{{Key: "parent", Value: 1}}, Options: options.Index().SetUnique(true).SetName("parent_unique")},
			{Keys: bson.D{{Key: "family", Value: 1}}, Options: options.Index().SetName("family")},
			{Keys: bson.D{{Key: "user_id", Value: 1}}, Options: options.Index().SetName("user_id")},
		}},
		// The backend reads the deletions since its last look.
		{s.deletions, []mongo.IndexModel{
			{Keys: bson.D{{Key: accountdeletion.FieldDeletedAt, Value: 1}}, Options: options.Index().SetName(accountdeletion.FieldDeletedAt)},
		}},
	}
	for _, set := range sets {
		// One at a time: FerretDB v1 drops the connection (a panic on its side) when one
		// createIndexes names two or more indexes that already exist, i.e. on every restart.
		for _, model := range set.models {
			if _, err := set.coll.Indexes().CreateOne(ctx, model); err != nil {
				return false, fmt.Errorf("create indexes on %s: %w", set.coll.Name(), err)
			}
		}
	}
	return mongox.EnsureExpiries(ctx, s.Expiring())
}

// Expiring lists the documents that expire at their expires_at: refresh tokens, the marks
// of revoked families (which outlive every token of the family), the limits' slots and the
// records of deleted accounts.
func (s *Store) Expiring() []mongox.Expiring {
	return []mongox.Expiring{
		{Coll: s.tokens, Field: fieldExpiresAt},
		{Coll: s.revoked, Field: fieldExpiresAt},
		{Coll: s.slots, Field: fieldExpires},
		{Coll: s.deletions, Field: accountdeletion.FieldExpiresAt},
	}
}

// InsertUser stores a new account; ErrDuplicate means its e-mail is taken.
func (s *Store) InsertUser(ctx context.Context, u User) error {
	if _, err := s.users.InsertOne(ctx, u); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return ErrDuplicate
		}
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// DeleteUnverified removes an account that never verified its address (auth's replaceAbandoned).
// It had no session to revoke: it could not sign in.
func (s *Store) DeleteUnverified(ctx context.Context, id bson.ObjectID) error {
	_, err := s.users.DeleteOne(ctx, bson.D{{Key: mongox.FieldID, Value: id}, {Key: fieldEmailVerified, Value: false}})
	if err != nil {
		return fmt.Errorf("delete unverified account: %w", err)
	}
	return nil
}

// SetVerified marks the account's address verified.
func (s *Store) SetVerified(ctx context.Context, id bson.ObjectID) (bool, error) {
	res, err := s.users.UpdateOne(ctx, bson.D{{Key: mongox.FieldID, Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: fieldEmailVerified, Value: true}}}})
	if err != nil {
		return false, fmt.Errorf("mark e-mail verified: %w", err)
	}
	return res.MatchedCount > 0, nil
}

// UserByEmail finds the account of a canonical e-mail; ErrNotFound when there is none.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	return s.findUser(ctx, bson.D{{Key: fieldEmail, Value: email}})
}

// UserByID finds an account by id; ErrNotFound when there is none.
func (s *Store) UserByID(ctx context.Context, id bson.ObjectID) (User, error) {
	return s.findUser(ctx, bson.D{{Key: mongox.FieldID, Value: id}})
}

func (s *Store) findUser(ctx context.Context, filter bson.D) (User, error) {
	var u User
	err := s.users.FindOne(ctx, filter).Decode(&u)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return u, ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// DeleteUser records the deletion for the backend, then removes the account and its refresh
// tokens. The record comes first: if the rest fails, the client's retry deletes the account
// and the backend has already taken its listings down and refuses its tokens, rather than an
// account gone with its listings still for sale. A rotation racing with the deletion may
// insert one more token, but refresh checks that the user still exists.
func (s *Store) DeleteUser(ctx context.Context, u User, now time.Time) error {
	rec := accountdeletion.Record{AccountID: u.ID.Hex(), Email: u.Email, DeletedAt: now, ExpiresAt: now.Add(accountdeletion.Retention)}
	if _, err := s.deletions.InsertOne(ctx, rec); err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("record account deletion: %w", err)
	}
	id := u.ID
	if _, err := s.users.DeleteOne(ctx, bson.D{{Key: mongox.FieldID, Value: id}}); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	if _, err := s.tokens.DeleteMany(ctx, bson.D{{Key: "user_id", Value: id}}); err != nil {
		return fmt.Errorf("delete refresh tokens of user: %w", err)
	}
	return nil
}

// InsertToken stores a refresh token; ErrDuplicate means its parent was already rotated.
func (s *Store) InsertToken(ctx context.Context, t RefreshToken) error {
	if _, err := s.tokens.InsertOne(ctx, t); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return ErrDuplicate
		}
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// TokenByHash finds a refresh token by the SHA-256 of its value; ErrNotFound when there is none.
func (s *Store) TokenByHash(ctx context.Context, hash string) (RefreshToken, error) {
	var t RefreshToken
	err := s.tokens.FindOne(ctx, bson.D{{Key: mongox.FieldID, Value: hash}}).Decode(&t)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return t, ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("find refresh token: %w", err)
	}
	return t, nil
}

// FamilyRevoked reports whether a refresh token family was revoked.
func (s *Store) FamilyRevoked(ctx context.Context, family string) (bool, error) {
	n, err := s.revoked.CountDocuments(ctx, bson.D{{Key: mongox.FieldID, Value: family}}, options.Count().SetLimit(1))
	if err != nil {
		return false, fmt.Errorf("check revoked family: %w", err)
	}
	return n > 0, nil
}

// RevokeFamily records the revocation first (the authority every refresh consults) and only
// then deletes the family's tokens, which is housekeeping.
func (s *Store) RevokeFamily(ctx context.Context, family, reason string, until time.Time) error {
	_, err := s.revoked.InsertOne(ctx, revokedFamily{Family: family, Reason: reason, ExpiresAt: until})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("revoke refresh token family: %w", err)
	}
	if _, err := s.tokens.DeleteMany(ctx, bson.D{{Key: "family", Value: family}}); err != nil {
		return fmt.Errorf("delete refresh tokens of family: %w", err)
	}
	return nil
}
