package mongox

import (
	"errors"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// BulkWriteErrors splits the error of an unordered InsertMany or BulkWrite. When only some
// writes failed (write errors, no write concern error), perDoc holds each failed write's
// error by its index in the call, as InsertOne or UpdateOne would have reported it
// (mongo.IsDuplicateKeyError holds for a duplicate _id), and the other writes are done.
// Otherwise whole is err (nil on success): no write can be taken as done.
func BulkWriteErrors(err error) (perDoc map[int]error, whole error) {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return nil, err
	}
	perDoc = make(map[int]error, len(bwe.WriteErrors))
	for _, we := range bwe.WriteErrors {
		perDoc[we.Index] = mongo.WriteException{WriteErrors: mongo.WriteErrors{we.WriteError}}
	}
	return perDoc, nil
}
