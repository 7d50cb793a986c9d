package mongox_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/internal/testinfra"
)

// ferretDB returns a client of a fresh embedded FerretDB.
func ferretDB(t *testing.T) *mongo.Client {
	t.Helper()
	client, err := mongox.Connect(t.Context(), mongox.Config{URI: testinfra.StartFerretDB(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}

// FerretDB v1 refuses TTL indexes: EnsureExpiry says so (every time, it is run at each
// start) and leaves a plain index for the purge.
func TestEnsureExpiry_ReportsNoTTLOnFerretDB(t *testing.T) {
	ctx := t.Context()
	coll := ferretDB(t).Database("expiry").Collection("docs")
	for range 2 {
		ttl, err := mongox.EnsureExpiry(ctx, coll, "at", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if ttl {
			t.Fatal("EnsureExpiry reports TTL indexes on FerretDB v1, which has none")
		}
	}
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	if len(names) != 2 || names[1] != "at" {
		t.Fatalf("indexes = %v, want _id_ and the plain index at", names)
	}
}

// Purge deletes what expired in every set and keeps the rest.
func TestPurger_DeletesOnlyExpired(t *testing.T) {
	ctx := t.Context()
	db := ferretDB(t).Database("expiry")
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tokens, claims := db.Collection("tokens"), db.Collection("claims")
	for _, d := range []struct {
		id string
		at time.Time
	}{{"old", now.Add(-time.Minute)}, {"new", now.Add(time.Minute)}} {
		// Tokens expire at their time; claims an hour after theirs.
		if _, err := tokens.InsertOne(ctx, bson.D{{Key: "_id", Value: d.id}, {Key: "expires_at", Value: d.at}}); err != nil {
			t.Fatal(err)
		}
		if _, err := claims.InsertOne(ctx, bson.D{{Key: "_id", Value: d.id}, {Key: "claimed_at", Value: d.at.Add(-time.Hour)}}); err != nil {
			t.Fatal(err)
		}
	}
	p := mongox.Purger{
		Sets: []mongox.Expiring{{Coll: tokens, Field: "expires_at"}, {Coll: claims, Field: "claimed_at", After: time.Hour}},
		Now:  func() time.Time { return now },
	}
	if err := p.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	for _, coll := range []string{"tokens", "claims"} {
		var left []struct {
			ID string `bson:"_id"`
		}
		cur, err := db.Collection(coll).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		if err := cur.All(ctx, &left); err != nil {
			t.Fatal(err)
		}
		if len(left) != 1 || left[0].ID != "new" {
			t.Errorf("%s after the purge = %v, want only the unexpired document", coll, left)
		}
	}
}
