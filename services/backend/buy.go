package backend

import (
	"net/http"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/services/backend/store"
	"littleecom.io/littleecom/services/internal/httpx"
)

// buy serves POST /buy/{id}: 200 with the order for the one buyer who wins the item, 409 for
// everyone after, 400 for its seller.
func (s *Service) buy(w http.ResponseWriter, r *http.Request, caller store.Account) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	o, err := s.store.Buy(r.Context(), id, caller)
	if err != nil {
		return storeProblem(err, id)
	}
	httpx.WriteJSON(w, http.StatusOK, toOrderJSON(o))
	return nil
}

// listOrders serves GET /orders: the caller's purchases, paginated like the listings.
func (s *Service) listOrders(w http.ResponseWriter, r *http.Request, caller store.Account) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	orders, err := s.store.ListOrders(r.Context(), caller, fetch(p))
	if err != nil {
		return err
	}
	orders, link := trim(p, r.URL.Path, orders, func(o store.Order) bson.ObjectID { return o.ItemID })
	if link != "" {
		w.Header().Set("Link", link)
	}
	out := make([]orderJSON, len(orders))
	for i, o := range orders {
		out[i] = toOrderJSON(o)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}
