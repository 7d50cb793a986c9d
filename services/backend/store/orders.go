package store

import (
	"context"
	"fmt"
	"log/slog"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"littleecom.io/littleecom/internal/contract"
)

// Buy sells the item to the buyer. Of many concurrent buyers exactly one succeeds; the others
// get ErrSold. The claim is the insert of the order keyed by the item id, the one operation
// FerretDB makes atomic; marking the item sold comes after and only tidies the listings.
func (s *Store) Buy(ctx context.Context, id bson.ObjectID, buyerEmail string) (Order, error) {
	it, err := s.findItem(ctx, id)
	switch {
	case err != nil:
		return Order{}, err
	case it.Status == StatusDeleted:
		return Order{}, ErrNotFound
	case it.Status == StatusSold:
		return Order{}, ErrSold
	case sameEmail(it.OwnerEmail, buyerEmail):
		return Order{}, ErrOwnItem
	}

	now := s.now().UTC()
	o := Order{
		ItemID: id, BuyerEmail: buyerEmail, SellerEmail: it.OwnerEmail, Seller: it.Owner,
		Name: it.Name, Price: it.Price, EventID: newEventID(), BoughtAt: now,
	}
	ev := contract.ItemEvent{
		Email: buyerEmail, Item: it.Name, Price: it.Price,
		EventID: o.EventID, ItemID: id.Hex(), Seller: it.OwnerEmail,
		OccurredAt: now.Format(timeFormat),
	}
	if err := s.queue(ctx, contract.RoutingKeyItemBought, CollOrders, id, ev); err != nil {
		return Order{}, err
	}
	if _, err := write(ctx, s, func() (*mongo.InsertOneResult, error) { return s.orders.InsertOne(ctx, o) }); err != nil {
		s.abandon(o.EventID, err) // a lost race or a refused write publishes nothing
		if mongo.IsDuplicateKeyError(err) {
			return Order{}, ErrSold
		}
		return Order{}, fmt.Errorf("insert order for %s: %w", id.Hex(), err)
	}

	// The buy has happened. If marking the item sold fails, the event is left for the relay's
	// database check (by forgetting it here), which marks the item sold before publishing.
	_, err = s.setByID(ctx, s.items, id, bson.D{
		{Key: fieldStatus, Value: StatusSold}, {Key: fieldBuyerEmail, Value: buyerEmail}, {Key: fieldUpdatedAt, Value: now},
	})
	if err != nil {
		slog.WarnContext(ctx, "mark item sold; the outbox relay will", "item_id", id.Hex(), "err", err)
		s.local.forget(o.EventID)
	} else {
		s.local.commit(o.EventID)
	}
	s.written()
	return o, nil
}

// ListOrders returns a page of the buyer's orders, oldest item first.
func (s *Store) ListOrders(ctx context.Context, buyerEmail string, p Page) ([]Order, error) {
	cur, err := s.orders.Find(ctx, p.filter(bson.D{{Key: fieldBuyerEmail, Value: buyerEmail}}), p.findOptions())
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	orders, err := decodeAll[Order](ctx, cur)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	return orders, nil
}
