package backend

import (
	"time"

	"littleecom.io/littleecom/services/backend/store"
)

// itemJSON is an item as the original shop showed it. The seller's full e-mail is not
// shown: owner is its local part.
type itemJSON struct {
	ID    string  `json:"id"`
	Owner string  `json:"owner"`
	Name  string  `json:"name"`
	Price float64 `json:"price"`
}

func toItemJSON(it store.Item) itemJSON {
	return itemJSON{ID: it.ID.Hex(), Owner: it.Owner, Name: it.Name, Price: it.Price}
}

// orderJSON is one of the caller's purchases, with the item as it was when bought.
type orderJSON struct {
	ItemID   string  `json:"item_id"`
	Owner    string  `json:"owner"` // the seller, as item.owner
	Name     string  `json:"name"`
	Price    float64 `json:"price"`
	BoughtAt string  `json:"bought_at"`
}

func toOrderJSON(o store.Order) orderJSON {
	return orderJSON{
		ItemID: o.ItemID.Hex(), Owner: o.Seller, Name: o.Name, Price: o.Price,
		BoughtAt: o.BoughtAt.UTC().Format(time.RFC3339),
	}
}

// itemInput is the body of POST /item and PUT /item/{id}. Clients of the original shop PUT
// the whole item back, id and owner included; unknown fields are ignored for the same reason.
type itemInput struct {
	ID    string  `json:"id"`
	Owner string  `json:"owner"`
	Name  string  `json:"name"`
	Price float64 `json:"price"`
}
