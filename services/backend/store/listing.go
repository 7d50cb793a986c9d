package store

import (
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/services/internal/mongox"
)

// decodeListed reads the four fields a listing shows straight from the raw document. A
// listing decodes up to 500 documents per request; reflection made that most of the
// service's CPU for GET /items (see docs/performance-backend.md).
func decodeListed(raw bson.Raw) (Item, error) {
	var (
		it  Item
		ok1 bool
		ok2 bool
		ok3 bool
		ok4 bool
	)
	it.ID, ok1 = raw.Lookup(mongox.FieldID).ObjectIDOK()
	it.Owner, ok2 = raw.Lookup(fieldOwner).StringValueOK()
	it.Name, ok3 = raw.Lookup(fieldName).StringValueOK()
	it.Price, ok4 = raw.Lookup(fieldPrice).AsFloat64OK()
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return Item{}, fmt.Errorf("item document %s lacks a listed field or has a wrong type", raw.Lookup(mongox.FieldID))
	}
	it.Status = StatusAvailable // listings hold nothing else
	return it, nil
}
