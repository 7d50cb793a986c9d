package backend

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Against FerretDB on SQLite, writes are queued one at a time (it commits one at a time
// anyway) and scans a few at a time (listings, orders, recovery: FerretDB reads the whole
// collection for them); see store/gate.go. Lookups by _id are not queued (store.findItem).
const (
	ferretDBWriters = 1
	ferretDBReaders = 4
)

// isFerretDB tells FerretDB from MongoDB by the field FerretDB adds to buildInfo. When it
// cannot tell it says MongoDB: the gates are then off, which is only slower on FerretDB.
func isFerretDB(ctx context.Context, client *mongo.Client) bool {
	var info bson.M
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return false
	}
	_, ok := info["ferretdbVersion"]
	return ok
}
