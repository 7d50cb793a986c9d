package store

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/tracing"
)

// Events live in the document they describe.
//
// FerretDB has no multi-document transactions, so an event kept in a collection of its own
// could not be committed with its domain write: one of the two writes would come first, and
// a crash between them would lose the event or invent one. Instead the domain document is
// its event: the item carries everything its ecom.item.add says (seller, name, price, time)
// plus the event's id, the order (the buy claim) everything its ecom.item.buy says plus its
// id; and as a bought item is deleted with its buy, the order also carries that item's add
// event (boughtItemAddEvent), which recovery reads from there when the item is gone. A
// single-document insert is atomic on MongoDB and on FerretDB, so the event exists if
// and only if the write happened: never lost, never invented, with one insert per request
// and nothing to clean up after a crash. The message is made from the document
// (addEvent, buyEvent) rather than stored a second time in it: on FerretDB every lookup by
// _id scans the table's rows, and a sub-document with the event made each buy 30 % dearer.
//
// The relay learns of a new event in memory from the request (WithEventHook), publishes it
// with confirms, then records it as published (Published): one insert of small documents
// per batch. It does not clear anything from the event's document, since on FerretDB an
// update of one document scans its collection, even by _id (the SQLite index on _id is not
// the expression FerretDB's lookups use): a clear per event cost 10 to 30 ms of database
// CPU at a few thousand items and could not keep up with writes
// (docs/performance-backend.md). An event is pending until a record says it was published.
//
// Events nobody handed the relay (its process died first, a buy whose item could not be
// deleted, memory full during a broker outage) are found by PendingEvents, which the
// relay runs at start, on reconnect and periodically. It looks only at documents written
// since the recovery checkpoint, which Recovered advances once everything before it is
// published and which forgets the records before it; so the records and each look stay as
// small as the events of the last minutes.
//
// Before this design the backend kept a collection named outbox, written before each domain
// write. Nothing reads it any more, and the checkpoint starts at the first start of this
// design (EnsureIndexes), so older items are not announced again: a shop upgraded while
// entries were still waiting there (RabbitMQ down during the upgrade) needs the previous
// backend to drain it first, or those events are not sent. Pre-1.0, a note is all it gets.

// timeFormat is how events carry timestamps.
const timeFormat = time.RFC3339Nano

// Event is a pending event with the document that carries it: what the relay publishes.
type Event struct {
	ID         string
	RoutingKey string
	Body       []byte
	CreatedAt  time.Time
	Source     string        // collection of the document: CollItems or CollOrders
	SourceID   bson.ObjectID // its _id
	// Trace is the trace context of the request that wrote the document: the relay's
	// publication continues that trace.
	Trace tracing.Stored
}

// newEventID returns a random id, unique per event, that the notifier deduplicates on.
func newEventID() string { return rand.Text() }

// addEvent is the ecom.item.add event of it. A recovered event shows the item's name and
// price as they are then, which a PUT may have changed.
func addEvent(it *Item) (Event, error) {
	return newEvent(CollItems, it.ID, tracing.Stored{Parent: it.TraceParent, State: it.TraceState},
		contract.RoutingKeyItemAdded, it.EventID, it.CreatedAt, contract.ItemEvent{
			Email: it.OwnerEmail, Item: it.Name, Price: it.Price,
			EventID: it.EventID, ItemID: it.ID.Hex(), Seller: it.OwnerEmail,
			OccurredAt: it.CreatedAt.Format(timeFormat),
		})
}

// boughtItemAddEvent is the ecom.item.add event of the item o bought, from the copy the
// order keeps of it; none for orders written before orders kept it.
func boughtItemAddEvent(o *Order) (Event, bool, error) {
	if o.ItemEventID == "" {
		return Event{}, false, nil
	}
	ev, err := addEvent(&Item{ID: o.ItemID, OwnerEmail: o.SellerEmail, Name: o.Name, Price: o.Price,
		EventID: o.ItemEventID, CreatedAt: o.ItemCreatedAt, TraceParent: o.ItemTraceParent, TraceState: o.ItemTraceState})
	return ev, true, err
}

// buyEvent is the ecom.item.buy event of o.
func buyEvent(o *Order) (Event, error) {
	return newEvent(CollOrders, o.ItemID, tracing.Stored{Parent: o.TraceParent, State: o.TraceState},
		contract.RoutingKeyItemBought, o.EventID, o.BoughtAt, contract.ItemEvent{
			Email: o.BuyerEmail, Item: o.Name, Price: o.Price,
			EventID: o.EventID, ItemID: o.ItemID.Hex(), Seller: o.SellerEmail,
			OccurredAt: o.BoughtAt.Format(timeFormat),
		})
}

func newEvent(source string, id bson.ObjectID, tc tracing.Stored, key, eventID string, at time.Time,
	body contract.ItemEvent) (Event, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return Event{}, fmt.Errorf("encode event %s: %w", key, err)
	}
	return Event{ID: eventID, RoutingKey: key, Body: b, CreatedAt: at, Source: source, SourceID: id, Trace: tc}, nil
}

// emit hands a committed event to the relay (WithEventHook).
func (s *Store) emit(e Event) { s.onEvent(e) }
