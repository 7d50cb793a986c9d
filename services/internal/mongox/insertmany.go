package mongox

import (
	"errors"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// InsertManyErrors splits the error of an unordered InsertMany. When only some documents
// failed (write errors, no write concern error), perDoc holds each failed document's error
// by its index in the call, as InsertOne would have reported it (mongo.IsDuplicateKeyError
// holds for a duplicate _id), and the other documents are written. Otherwise whole is err
// (nil on success): no document can be taken as written.
func InsertManyErrors(err error) (perDoc map[int]error, whole error) {
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
