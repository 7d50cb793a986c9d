package ferret

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestEnsureIDIndexes checks against a real embedded FerretDB that the lookup index is made
// for every collection, that SQLite answers FerretDB's _id lookup with it, and that FerretDB
// answers as before: finds, updates, deletes, listIndexes, a dropped and re-created
// collection. Speed is measured by the load generator, not here.
func TestEnsureIDIndexes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	srv, err := Start("127.0.0.1:0", dir, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	cl, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Disconnect(context.Background()) })

	// Nothing there yet: nothing to do, no error.
	if err := EnsureIDIndexes(ctx, dir); err != nil {
		t.Fatalf("empty directory: %v", err)
	}

	items := cl.Database("shop").Collection("items")
	ids := make([]bson.ObjectID, 50)
	docs := make([]any, len(ids))
	for i := range ids {
		ids[i] = bson.NewObjectID()
		docs[i] = bson.D{{Key: "_id", Value: ids[i]}, {Key: "n", Value: i}}
	}
	if _, err := items.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Database("shop").Collection("orders").InsertOne(ctx, bson.D{{Key: "_id", Value: "order-1"}}); err != nil {
		t.Fatal(err)
	}
	indexesBefore := listIndexes(ctx, t, items)

	for range 2 { // idempotent
		if err := EnsureIDIndexes(ctx, dir); err != nil {
			t.Fatal(err)
		}
	}
	db := openSQLite(t, filepath.Join(dir, "shop.sqlite"))
	for _, coll := range []string{"items", "orders"} {
		table := tableOf(ctx, t, db, coll)
		plan := queryPlan(ctx, t, db, `SELECT _ferretdb_sjson FROM `+quoteIdent(table)+` WHERE _ferretdb_sjson->'$._id' = ?`)
		if !strings.Contains(plan, table+idIndexSuffix) {
			t.Errorf("%s: FerretDB's _id lookup plan is %q, want a search on %s", coll, plan, table+idIndexSuffix)
		}
	}

	// FerretDB answers as before.
	var got struct {
		N int `bson:"n"`
	}
	if err := items.FindOne(ctx, bson.D{{Key: "_id", Value: ids[7]}}).Decode(&got); err != nil || got.N != 7 {
		t.Fatalf("find by _id: %+v, %v", got, err)
	}
	if err := items.FindOne(ctx, bson.D{{Key: "_id", Value: bson.NewObjectID()}}).Err(); err != mongo.ErrNoDocuments {
		t.Fatalf("find of a missing _id: %v, want no documents", err)
	}
	if res, err := items.UpdateOne(ctx, bson.D{{Key: "_id", Value: ids[8]}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 80}}}}); err != nil || res.ModifiedCount != 1 {
		t.Fatalf("update by _id: %+v, %v", res, err)
	}
	if err := items.FindOne(ctx, bson.D{{Key: "_id", Value: ids[8]}}).Decode(&got); err != nil || got.N != 80 {
		t.Fatalf("find after update: %+v, %v", got, err)
	}
	if res, err := items.DeleteOne(ctx, bson.D{{Key: "_id", Value: ids[9]}}); err != nil || res.DeletedCount != 1 {
		t.Fatalf("delete by _id: %+v, %v", res, err)
	}
	if n, err := items.CountDocuments(ctx, bson.D{}); err != nil || n != int64(len(ids)-1) {
		t.Fatalf("count after delete: %d, %v", n, err)
	}
	if _, err := items.InsertOne(ctx, bson.D{{Key: "_id", Value: ids[0]}}); !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("duplicate _id: %v, want a duplicate key error", err)
	}
	if after := listIndexes(ctx, t, items); after != indexesBefore {
		t.Errorf("listIndexes: %s, was %s", after, indexesBefore)
	}

	// A dropped collection takes its index along; the re-created one gets a new one.
	if err := items.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := items.InsertOne(ctx, bson.D{{Key: "_id", Value: ids[0]}}); err != nil {
		t.Fatal(err)
	}
	if err := EnsureIDIndexes(ctx, dir); err != nil {
		t.Fatal(err)
	}
	table := tableOf(ctx, t, db, "items")
	if plan := queryPlan(ctx, t, db, `SELECT _ferretdb_sjson FROM `+quoteIdent(table)+` WHERE _ferretdb_sjson->'$._id' = ?`); !strings.Contains(plan, table+idIndexSuffix) {
		t.Errorf("re-created collection: plan %q", plan)
	}
	if err := items.FindOne(ctx, bson.D{{Key: "_id", Value: ids[0]}}).Err(); err != nil {
		t.Fatalf("find in the re-created collection: %v", err)
	}
}

// TestStart_IndexesCollectionsCreatedLater: the server make dev, the tests and the node run
// keeps the lookup index on collections that appear while it runs (MaintainIDIndexes).
func TestStart_IndexesCollectionsCreatedLater(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	srv, err := Start("127.0.0.1:0", dir, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	cl, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Disconnect(context.Background()) })
	if _, err := cl.Database("later").Collection("c").InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	db := openSQLite(t, filepath.Join(dir, "later.sqlite"))
	table := tableOf(ctx, t, db, "c")
	for {
		var n int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, table+idIndexSuffix).Scan(&n)
		if err == nil && n == 1 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no lookup index on a collection created after the start (%v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func openSQLite(t *testing.T, file string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func tableOf(ctx context.Context, t *testing.T, db *sql.DB, coll string) string {
	t.Helper()
	var table string
	if err := db.QueryRowContext(ctx, `SELECT table_name FROM _ferretdb_collections WHERE name = ?`, coll).Scan(&table); err != nil {
		t.Fatalf("table of %s: %v", coll, err)
	}
	return table
}

func queryPlan(ctx context.Context, t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, "x")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "; ")
}

func listIndexes(ctx context.Context, t *testing.T, coll *mongo.Collection) string {
	t.Helper()
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	return strings.Join(names, ",")
}
