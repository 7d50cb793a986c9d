package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"littleecom.io/littleecom/services/internal/tracing"
)

// Buy sells the item to the buyer. Of many concurrent buyers exactly one succeeds; the others
// get ErrSold. The claim is the insert of the order keyed by the item id, the one operation
// FerretDB makes atomic; deleting the item comes after and only takes it out of the shop
// (bought.go).
func (s *Store) Buy(ctx context.Context, id bson.ObjectID, buyer Account) (Order, error) {
	it, err := s.findItem(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		// A bought item is deleted: its order says it was sold rather than never there.
		sold, berr := s.bought(ctx, id)
		switch {
		case berr != nil:
			return Order{}, berr
		case sold:
			return Order{}, ErrSold
		}
		return Order{}, err
	case err != nil:
		return Order{}, err
	case it.Status == StatusDeleted:
		return Order{}, ErrNotFound
	case it.Status == StatusSold:
		return Order{}, ErrSold
	case it.ownedBy(buyer):
		return Order{}, ErrOwnItem
	}

	now := s.now().UTC().Truncate(time.Millisecond) // as stored, so a recovered event is the same
	o := Order{
		ItemID: id, BuyerID: buyer.ID, SellerID: it.ownerKey(), BuyerEmail: buyer.Email, SellerEmail: it.OwnerEmail, Seller: it.Owner,
		Name: it.Name, Price: it.Price, EventID: newEventID(), BoughtAt: now,
		// The item's add event, for when the item is gone before it went out (bought.go).
		ItemEventID: it.EventID, ItemCreatedAt: it.CreatedAt, ItemTraceParent: it.TraceParent, ItemTraceState: it.TraceState,
	}
	tc := tracing.Store(ctx)
	o.TraceParent, o.TraceState = tc.Parent, tc.State
	// The claim and its event in one insert: a lost race writes neither. The event is
	// encoded for the relay only once the claim is won. Concurrent buys share insert
	// commands (group commit, as new items do): each order is still its own atomic insert,
	// and of two claims on one item, in one command or not, the unique _id lets one in.
	doc, err := bson.Marshal(o)
	if err != nil {
		return Order{}, fmt.Errorf("encode order for %s: %w", id.Hex(), err)
	}
	if _, err := s.orderInserts.insert(ctx, doc); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return Order{}, ErrSold
		}
		return Order{}, fmt.Errorf("insert order for %s: %w", id.Hex(), err)
	}

	// The buy has happened: the order decides who won, and every later claim fails on its
	// key. Deleting the item only takes it out of the listings, so a crash or failure before
	// it cannot let a second buyer win or change what the event says. The event is handed
	// to the relay only once the item is gone; otherwise it stays in the order, where the
	// relay's recovery finds it and deletes the item before publishing (PendingEvents).
	if err := s.removeBought(ctx, id); err != nil {
		slog.WarnContext(ctx, "remove bought item; the relay's recovery will", "item_id", id.Hex(), "err", err)
		return o, nil
	}
	// Encoding cannot fail for the finite price of a stored item; if it did, the order is
	// written all the same and its event is left to the relay's recovery.
	if ev, err := buyEvent(&o); err == nil {
		s.emit(ev)
	} else {
		slog.WarnContext(ctx, "encode buy event; left to the relay's recovery", "item_id", id.Hex(), "err", err)
	}
	return o, nil
}

// ListOrders returns a page of the buyer's orders, oldest item first: those the account
// placed, and those placed before orders recorded account ids by its address since the
// account existed (account.go).
func (s *Store) ListOrders(ctx context.Context, buyer Account, p Page) ([]Order, error) {
	mine := bson.D{{Key: fieldBuyerID, Value: buyer.ID}}
	if !buyer.Since.IsZero() && buyer.Email != "" {
		mine = bson.D{{Key: opOr, Value: bson.A{
			bson.D{{Key: fieldBuyerID, Value: buyer.ID}},
			bson.D{
				{Key: fieldBuyerID, Value: legacyPrefix + buyer.Email},
				{Key: fieldBoughtAt, Value: bson.D{{Key: opGte, Value: buyer.Since.Add(-legacyClockSkew)}}},
			},
		}}}
	}
	// Through the read gate, like every other read (FerretDB answers reads from scans).
	orders, err := read(ctx, s, func() ([]Order, error) {
		cur, err := s.orders.Find(ctx, p.filter(mine), p.findOptions())
		if err != nil {
			return nil, err
		}
		return decodeAll[Order](ctx, cur)
	})
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	return orders, nil
}
