package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"littleecom.io/littleecom/services/internal/mailaddr"
	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/internal/tracing"
)

// CreateItem puts a new item on sale for the seller. The item carries its add event: one
// insert writes both (see outbox.go).
func (s *Store) CreateItem(ctx context.Context, seller Account, name string, price float64) (Item, error) {
	if math.IsNaN(price) || math.IsInf(price, 0) {
		return Item{}, fmt.Errorf("price %v is not a finite number", price)
	}
	now := s.now().UTC().Truncate(time.Millisecond) // as stored, so a recovered event is the same
	it := Item{
		Owner:      mailaddr.LocalPart(seller.Email),
		OwnerID:    seller.ID,
		OwnerEmail: seller.Email,
		Name:       name,
		Price:      price,
		Status:     StatusAvailable,
		EventID:    newEventID(),
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	tc := tracing.Store(ctx)
	it.TraceParent, it.TraceState = tc.Parent, tc.State
	id, err := s.itemInserts.insert(ctx, newItemDoc(&it))
	if err != nil {
		// Even when the outcome is unknown (a timeout), nothing is lost: if the server did
		// write the item, the event is in it and the relay's recovery publishes it.
		return Item{}, fmt.Errorf("insert item: %w", err)
	}
	it.ID = id
	// Encoding cannot fail for a finite price (checked above); if it did, the item is
	// written all the same and its event is left to the relay's recovery.
	if ev, err := addEvent(&it); err == nil {
		s.emit(ev)
	} else {
		slog.WarnContext(ctx, "encode add event; left to the relay's recovery", "item_id", id.Hex(), "err", err)
	}
	return it, nil
}

// newItemDoc encodes a new item without its _id, which the driver then adds (a fresh
// ObjectID, returned as InsertedID). Given a document with an _id, the driver decodes the
// whole document again to find it; that and the reflection of bson.Marshal were a sixth of
// POST /item's CPU in the backend (docs/performance-backend.md). Field names and types are
// Item's bson tags, which TestNewItemDoc_DecodesAsTheItem checks.
func newItemDoc(it *Item) bsoncore.Document {
	b := bsoncore.NewDocumentBuilder().
		AppendString(fieldOwner, it.Owner).
		AppendString(fieldOwnerID, it.OwnerID).
		AppendString(fieldOwnerEmail, it.OwnerEmail).
		AppendString(fieldName, it.Name).
		AppendDouble(fieldPrice, it.Price).
		AppendString(fieldStatus, it.Status).
		AppendString(fieldEventID, it.EventID).
		AppendDateTime(fieldCreatedAt, it.CreatedAt.UnixMilli()).
		AppendDateTime(fieldUpdatedAt, it.UpdatedAt.UnixMilli())
	// omitempty, as Item's tags say: no trace, no fields.
	if it.TraceParent != "" {
		b.AppendString(fieldTraceP, it.TraceParent)
	}
	if it.TraceState != "" {
		b.AppendString(fieldTraceS, it.TraceState)
	}
	return b.Build()
}

// GetItem returns an available item. Sold and deleted items are not found: they have left
// the shop (the buyer sees a sold item in their orders).
func (s *Store) GetItem(ctx context.Context, id bson.ObjectID) (Item, error) {
	it, err := s.findItem(ctx, id)
	if err != nil {
		return Item{}, err
	}
	if it.Status != StatusAvailable {
		return Item{}, ErrNotFound
	}
	return it, nil
}

// ShownItem is GetItem for showing the item: it may answer from the item cache
// (itemcache.go), so it is never the ground for a write.
func (s *Store) ShownItem(ctx context.Context, id bson.ObjectID) (Item, error) {
	if it, ok, ticket := s.cache.get(id); ok {
		if ticket.ok {
			s.refreshItem(id, ticket)
		}
		return it, nil
	} else if ticket.ok {
		it, err := s.GetItem(ctx, id)
		if err == nil {
			s.cache.fill(ticket, it)
		}
		return it, err
	}
	return s.GetItem(ctx, id)
}

// findItem returns the item in any status.
func (s *Store) findItem(ctx context.Context, id bson.ObjectID) (Item, error) {
	var it Item
	// Not through the read gate, which is for scans: with the _id lookup index of
	// internal/ferret/idindex.go FerretDB answers this from an index search, and queueing
	// such lookups four at a time only cost CPU and throughput (GET /item/{id}: 0.84–0.96
	// ms of CPU per request gated, 0.62–0.70 ms not, in alternated runs;
	// docs/performance-backend.md). The connection pool still bounds them. A FerretDB
	// without that index scans for each, and 32 at once stretch the p99 (5.3x the p50
	// when the gate came in).
	raw, err := s.items.FindOne(ctx, bson.D{{Key: mongox.FieldID, Value: id}}).Raw()
	if err == nil {
		err = bson.Unmarshal(raw, &it)
	} else if errors.Is(err, mongo.ErrNoDocuments) {
		err = ErrNotFound
	}
	if errors.Is(err, ErrNotFound) {
		return Item{}, err
	}
	if err != nil {
		return Item{}, fmt.Errorf("find item %s: %w", id.Hex(), err)
	}
	return it, nil
}

// UpdateItem renames and reprices an available item of the caller's.
func (s *Store) UpdateItem(ctx context.Context, id bson.ObjectID, caller Account, name string, price float64) (Item, error) {
	it, err := s.ownedItem(ctx, id, caller)
	if err != nil {
		return Item{}, err
	}
	it.Name, it.Price, it.UpdatedAt = name, price, s.now().UTC()
	// A buy may sell the item between the read above and this write; that is harmless, as
	// the order keeps its own copy of name and price. The filter is the _id alone because
	// FerretDB uses its index for nothing else (any other filter scans the collection).
	res, err := s.setByID(ctx, s.items, id, bson.D{
		{Key: fieldName, Value: name}, {Key: fieldPrice, Value: price}, {Key: fieldUpdatedAt, Value: it.UpdatedAt},
	})
	if err != nil {
		return Item{}, fmt.Errorf("update item %s: %w", id.Hex(), err)
	}
	if res.MatchedCount == 0 {
		return Item{}, ErrNotFound
	}
	return it, nil
}

// DeleteItem takes an available item of the caller's off sale. The document stays, marked
// deleted, so that its add event can still be checked by the relay.
func (s *Store) DeleteItem(ctx context.Context, id bson.ObjectID, caller Account) error {
	if _, err := s.ownedItem(ctx, id, caller); err != nil {
		return err
	}
	// _id alone, as in UpdateItem. A buy racing this delete may still win: its order
	// stands and the item ends up sold, which the buyer's order explains.
	res, err := s.setByID(ctx, s.items, id,
		bson.D{{Key: fieldStatus, Value: StatusDeleted}, {Key: fieldUpdatedAt, Value: s.now().UTC()}})
	if err != nil {
		return fmt.Errorf("delete item %s: %w", id.Hex(), err)
	}
	if res.MatchedCount == 0 {
		return ErrNotFound
	}
	return nil
}

// ownedItem returns the available item if caller sells it.
func (s *Store) ownedItem(ctx context.Context, id bson.ObjectID, caller Account) (Item, error) {
	it, err := s.GetItem(ctx, id)
	if err != nil {
		return Item{}, err
	}
	if !it.ownedBy(caller) {
		return Item{}, ErrForbidden
	}
	return it, nil
}

// listProjection keeps listings to the fields they show.
var listProjection = bson.D{
	{Key: mongox.FieldID, Value: 1}, {Key: fieldOwner, Value: 1}, {Key: fieldName, Value: 1}, {Key: fieldPrice, Value: 1},
}

// ListItems returns a page of available items with the public fields (ID, Owner, Name,
// Price) set, all of them or one owner's (owner is the local part of the seller's e-mail,
// as in the original /items/{owner}).
func (s *Store) ListItems(ctx context.Context, owner string, p Page) ([]Item, error) {
	f := bson.D{{Key: fieldStatus, Value: StatusAvailable}}
	if owner != "" {
		f = bson.D{{Key: fieldOwner, Value: owner}, {Key: fieldStatus, Value: StatusAvailable}}
	}
	cur, err := read(ctx, s, func() (*mongo.Cursor, error) {
		return s.items.Find(ctx, p.filter(f), p.findOptions().SetProjection(listProjection))
	})
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	defer func() { _ = cur.Close(ctx) }()
	items := make([]Item, 0, min(p.Limit, cur.RemainingBatchLength()))
	for cur.Next(ctx) {
		it, err := decodeListed(cur.Current)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	return items, nil
}
