package backend_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"
)

type listed struct {
	ID    string  `json:"id"`
	Owner string  `json:"owner"`
	Name  string  `json:"name"`
	Price float64 `json:"price"`
}

func list(t *testing.T, s *shop, path string) ([]listed, string) {
	t.Helper()
	r := s.Do("GET", path, "", "")
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s = %d %s", path, r.Status, r.Body)
	}
	var items []listed
	if err := json.Unmarshal([]byte(r.Body), &items); err != nil || items == nil {
		t.Fatalf("GET %s body %q is not a JSON array: %v", path, r.Body, err)
	}
	return items, r.Header.Get("Link")
}

func TestListings_EmptyIsArray(t *testing.T) {
	s := newShop(t)
	for _, p := range []string{"/items", "/items/nobody"} {
		if r := s.Do("GET", p, "", ""); r.Status != 200 || r.Body != "[]\n" {
			t.Errorf("GET %s = %d %q, want 200 []", p, r.Status, r.Body)
		}
	}
}

func TestListings_ByOwnerAndPages(t *testing.T) {
	s := newShop(t)
	var ids []string
	for i := range 7 {
		seller := "ann@example.com"
		if i%2 == 1 {
			seller = "ben@example.com"
		}
		ids = append(ids, s.AddItem(seller, fmt.Sprintf("item %d", i), float64(i+1)))
	}

	// Old clients, no parameters: everything, oldest first, no Link.
	all, link := list(t, s, "/items")
	if len(all) != 7 || link != "" {
		t.Fatalf("GET /items: %d items, Link %q; want 7 and none", len(all), link)
	}
	for i, it := range all {
		if it.ID != ids[i] {
			t.Fatalf("order: item %d is %s, want %s", i, it.ID, ids[i])
		}
	}
	anns, _ := list(t, s, "/items/ann")
	if len(anns) != 4 || anns[0].Owner != "ann" || anns[3].Name != "item 6" {
		t.Errorf("GET /items/ann = %+v", anns)
	}

	// Walking the pages by Link gives every item once.
	next := regexp.MustCompile(`^<([^>]+)>; rel="next"$`)
	var walked []string
	path := "/items?limit=3"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		items, link := list(t, s, path)
		for _, it := range items {
			walked = append(walked, it.ID)
		}
		path = ""
		if m := next.FindStringSubmatch(link); m != nil {
			path = m[1]
		}
	}
	if fmt.Sprint(walked) != fmt.Sprint(ids) {
		t.Errorf("walked %v, want %v", walked, ids)
	}
	page, _ := list(t, s, "/items/ben?limit=2&after="+ids[1])
	if len(page) != 2 || page[0].ID != ids[3] || page[1].ID != ids[5] {
		t.Errorf("ben after %s = %+v", ids[1], page)
	}

	for _, bad := range []string{"/items?limit=0", "/items?limit=501", "/items?limit=x", "/items?after=nothex", "/items/ann?after=1"} {
		if r := s.Do("GET", bad, "", ""); r.Status != http.StatusBadRequest {
			t.Errorf("GET %s = %d, want 400", bad, r.Status)
		}
	}
}

// TestListings_SeeEveryEarlierWriteUnderLoad checks that coalesced listing queries never
// answer with a result older than the request: an item whose POST returned is in every
// listing requested afterwards, while other clients keep the listing busy.
func TestListings_SeeEveryEarlierWriteUnderLoad(t *testing.T) {
	s := newShop(t)
	stop := make(chan struct{})
	var bg sync.WaitGroup
	for range 8 {
		bg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					s.Do("GET", "/items", "", "")
				}
			}
		})
	}
	defer func() { close(stop); bg.Wait() }()

	for round := range 10 {
		id := s.AddItem("seller@example.com", fmt.Sprintf("item %d", round), 1)
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				items, _ := list(t, s, "/items")
				for _, it := range items {
					if it.ID == id {
						return
					}
				}
				t.Errorf("round %d: listing requested after the POST returned lacks %s", round, id)
			})
		}
		wg.Wait()
	}
}
