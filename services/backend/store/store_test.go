package store_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/backend/store"
	"littleecom.io/littleecom/services/internal/testinfra"
)

// newStore returns a Store on a fresh embedded FerretDB, with its indexes, and the database.
func newStore(t *testing.T, opts ...store.Option) (*store.Store, *mongo.Database) {
	t.Helper()
	uri := testinfra.StartFerretDB(t)
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetMaxPoolSize(32))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	db := client.Database(contract.DatabaseBackend)
	s := store.New(db, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatalf("indexes: %v", err)
	}
	return s, db
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// acct is the account of a test user: its id made from its address, as if auth had.
func acct(email string) store.Account { return store.Account{ID: "id:" + email, Email: email} }
