package mongox_test

import (
	"errors"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"littleecom.io/littleecom/services/internal/mongox"
)

func TestBulkWriteErrors(t *testing.T) {
	if perDoc, whole := mongox.BulkWriteErrors(nil); perDoc != nil || whole != nil {
		t.Errorf("nil: %v %v, want nothing", perDoc, whole)
	}
	down := errors.New("connection reset")
	if perDoc, whole := mongox.BulkWriteErrors(down); perDoc != nil || whole != down {
		t.Errorf("whole failure: %v %v, want %v", perDoc, whole, down)
	}
	dup := mongo.BulkWriteError{WriteError: mongo.WriteError{Index: 2, Code: 11000, Message: "E11000 duplicate key"}}
	other := mongo.BulkWriteError{WriteError: mongo.WriteError{Index: 0, Code: 2, Message: "bad value"}}
	some := fmt.Errorf("insert: %w", mongo.BulkWriteException{WriteErrors: []mongo.BulkWriteError{dup, other}})
	perDoc, whole := mongox.BulkWriteErrors(some)
	if whole != nil || len(perDoc) != 2 || !mongo.IsDuplicateKeyError(perDoc[2]) ||
		perDoc[0] == nil || mongo.IsDuplicateKeyError(perDoc[0]) || perDoc[1] != nil {
		t.Errorf("some failed: %v %v, want documents 0 and 2 (a duplicate)", perDoc, whole)
	}
	wce := mongo.BulkWriteException{WriteConcernError: &mongo.WriteConcernError{Code: 64}, WriteErrors: []mongo.BulkWriteError{dup}}
	if perDoc, whole := mongox.BulkWriteErrors(wce); perDoc != nil || whole == nil {
		t.Errorf("write concern error: %v %v, want a whole failure", perDoc, whole)
	}
}
