package backend

import (
	"net/http"
	"net/url"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/services/backend/store"
	"littleecom.io/littleecom/services/internal/problem"
)

// Listing page sizes. The original shop returned every item; DefaultLimit keeps clients that
// know nothing of pages seeing every item of any shop up to that size, while bounding what
// one request can cost.
const (
	DefaultLimit = 500
	MaxLimit     = 500
)

// listItems serves GET /items and GET /items/{owner}.
func (s *Service) listItems(w http.ResponseWriter, r *http.Request) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	items, err := s.store.ListItems(r.Context(), r.PathValue("owner"), p.fetch())
	if err != nil {
		return err
	}
	items = trim(p, w, r, items, func(it store.Item) bson.ObjectID { return it.ID })
	writeItems(w, items) // [] rather than null when empty
	return nil
}

// page is a parsed ?limit=&after= pair.
type page struct{ store.Page }

func parsePage(r *http.Request) (page, error) {
	q := r.URL.Query()
	p := page{store.Page{Limit: DefaultLimit}}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			return p, problem.Invalidf("limit must be an integer from 1 to %d", MaxLimit)
		}
		p.Limit = n
	}
	if v := q.Get("after"); v != "" {
		id, err := store.ParseID(v)
		if err != nil {
			return p, problem.Invalidf("after must be an item id (24 hexadecimal digits)")
		}
		p.After = id
	}
	return p, nil
}

// fetch asks for one more than the page holds, to learn whether a next page exists.
func (p page) fetch() store.Page { return store.Page{After: p.After, Limit: p.Limit + 1} }

// trim cuts the extra element fetch asked for and, when there was one, links the next page.
func trim[T any](p page, w http.ResponseWriter, r *http.Request, list []T, id func(T) bson.ObjectID) []T {
	if len(list) <= p.Limit {
		return list
	}
	list = list[:p.Limit]
	q := url.Values{}
	q.Set("after", id(list[len(list)-1]).Hex())
	q.Set("limit", strconv.Itoa(p.Limit))
	w.Header().Set("Link", "<"+r.URL.Path+"?"+q.Encode()+`>; rel="next"`)
	return list
}
