package store

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/testinfra"
)

// A domain write that timed out may still have happened on the server: its event must go out
// if it did, and nothing must go out if it did not.
func TestAbandon_UnknownOutcomeIsLeftToTheRelaysCheck(t *testing.T) {
	client, err := mongo.Connect(options.Client().ApplyURI(testinfra.StartFerretDB(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	s := New(client.Database(contract.DatabaseBackend))
	ctx := context.Background()

	happened, never := bson.NewObjectID(), bson.NewObjectID()
	for _, id := range []bson.ObjectID{happened, never} {
		ev := contract.ItemEvent{EventID: "ev-" + id.Hex()}
		if err := s.queue(ctx, contract.RoutingKeyItemAdded, CollItems, id, ev); err != nil {
			t.Fatal(err)
		}
		s.abandon(ev.EventID, context.DeadlineExceeded) // outcome unknown
	}
	// The server did write the first item after all.
	if _, err := s.items.InsertOne(ctx, Item{ID: happened, EventID: "ev-" + happened.Hex(), Status: StatusAvailable}); err != nil {
		t.Fatal(err)
	}
	evs, err := s.Events(ctx, 10)
	if err != nil || len(evs) != 1 || evs[0].SourceID != happened {
		t.Fatalf("events = %+v, %v; want only the write that happened", evs, err)
	}

	// A refused write deletes its entry at once.
	ev := contract.ItemEvent{EventID: "refused"}
	if err := s.queue(ctx, contract.RoutingKeyItemAdded, CollItems, bson.NewObjectID(), ev); err != nil {
		t.Fatal(err)
	}
	s.abandon("refused", mongo.WriteException{WriteErrors: mongo.WriteErrors{{Code: 2, Message: "refused"}}})
	err = s.outbox.FindOne(ctx, bson.D{{Key: "_id", Value: "refused"}}).Err()
	if !errors.Is(err, mongo.ErrNoDocuments) {
		t.Errorf("refused write's entry: %v, want deleted", err)
	}
}
