package backend

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// ferretDBWriters is the write concurrency against FerretDB on SQLite, which commits one
// write at a time anyway (see store/gate.go).
const ferretDBWriters = 1

// writeConcurrency returns how many writes may run at once against the server: unlimited
// (0) for MongoDB, ferretDBWriters for FerretDB, recognised by the field its buildInfo adds.
func writeConcurrency(ctx context.Context, client *mongo.Client) int {
	var info bson.M
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return 0 // cannot tell: do not throttle
	}
	if _, ok := info["ferretdbVersion"]; ok {
		return ferretDBWriters
	}
	return 0
}
