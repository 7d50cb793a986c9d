package backend

import (
	"context"
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

// listingKey identifies a listing page; equal keys share a query (see coalesce.go).
type listingKey struct {
	owner string
	page  store.Page
}

// listing is an encoded page: the JSON body and the Link header to the next page, if any.
type listing struct {
	body []byte
	link string
}

// listItems serves GET /items and GET /items/{owner}.
func (s *Service) listItems(w http.ResponseWriter, r *http.Request) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	key := listingKey{owner: r.PathValue("owner"), page: p}
	l, err := s.listings.do(r.Context(), key, func(ctx context.Context) (listing, error) {
		return s.queryListing(ctx, key)
	})
	if err != nil {
		return err
	}
	if l.link != "" {
		w.Header().Set("Link", l.link)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(l.body)
	return nil
}

// queryListing reads and encodes one page. It depends on the key alone: its result is
// shared by every request with that key.
func (s *Service) queryListing(ctx context.Context, key listingKey) (listing, error) {
	items, err := s.store.ListItems(ctx, key.owner, fetch(key.page))
	if err != nil {
		return listing{}, err
	}
	path := "/items"
	if key.owner != "" {
		path += "/" + url.PathEscape(key.owner)
	}
	items, link := trim(key.page, path, items, func(it store.Item) bson.ObjectID { return it.ID })
	// [] rather than null when empty.
	return listing{body: appendItems(make([]byte, 0, 64+len(items)*128), items), link: link}, nil
}

// parsePage reads ?limit= and ?after=.
func parsePage(r *http.Request) (store.Page, error) {
	q := r.URL.Query()
	p := store.Page{Limit: DefaultLimit}
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
func fetch(p store.Page) store.Page { return store.Page{After: p.After, Limit: p.Limit + 1} }

// trim cuts the extra element fetch asked for and, when there was one, returns the Link
// header value of the next page.
func trim[T any](p store.Page, path string, list []T, id func(T) bson.ObjectID) ([]T, string) {
	if len(list) <= p.Limit {
		return list, ""
	}
	list = list[:p.Limit]
	q := url.Values{}
	q.Set("after", id(list[len(list)-1]).Hex())
	q.Set("limit", strconv.Itoa(p.Limit))
	return list, "<" + path + "?" + q.Encode() + `>; rel="next"`
}
