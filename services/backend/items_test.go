package backend_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

var hex24 = regexp.MustCompile(`^[0-9a-f]{24}$`)

func TestItemRoutes_Contract(t *testing.T) {
	s := newShop(t)
	const alice, bob = "alice@example.com", "bob@example.com"
	aliceTok, bobTok := s.Token(alice), s.Token(bob)

	// POST /item answers 201 with the bare id as text, as the original shop did.
	created := s.Do(http.MethodPost, "/item", aliceTok, `{"name":"lamp","price":12.5,"extra":"ignored"}`)
	if created.Status != http.StatusCreated || !hex24.MatchString(created.Body) ||
		!strings.HasPrefix(created.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("POST /item = %d %q %q", created.Status, created.Header.Get("Content-Type"), created.Body)
	}
	id := created.Body
	other := s.AddItem(bob, "chair", 30)
	unknown := bson.NewObjectID().Hex()

	tests := []struct {
		name, method, path, token, body string
		want                            int
		wantBody                        string // a substring, when set
	}{
		{"get", "GET", "/item/" + id, "", "", 200, `{"id":"` + id + `","owner":"alice","name":"lamp","price":12.5}`},
		{"get bad id", "GET", "/item/nothex", "", "", 400, ""},
		{"get unknown", "GET", "/item/" + unknown, "", "", 404, ""},

		{"create no token", "POST", "/item", "", `{"name":"x","price":1}`, 401, ""},
		{"create empty name", "POST", "/item", aliceTok, `{"name":"  ","price":1}`, 400, "name"},
		{"create zero price", "POST", "/item", aliceTok, `{"name":"x","price":0}`, 400, "price"},
		{"create negative price", "POST", "/item", aliceTok, `{"name":"x","price":-3}`, 400, "price"},
		{"create no price", "POST", "/item", aliceTok, `{"name":"x"}`, 400, "price"},
		{"create malformed json", "POST", "/item", aliceTok, `{"name":`, 400, ""},
		{"create price as text", "POST", "/item", aliceTok, `{"name":"x","price":"1"}`, 400, ""},
		// Bounded input: a documented range and precision, readable names.
		{"create huge price", "POST", "/item", aliceTok, `{"name":"x","price":1e308}`, 400, "price must be from 0.01 to 1000000.00"},
		{"create tiny price", "POST", "/item", aliceTok, `{"name":"x","price":5e-324}`, 400, "price must be from 0.01"},
		{"create fractional cents", "POST", "/item", aliceTok, `{"name":"x","price":12.345}`, 400, "at most 2 decimals"},
		{"create highest price", "POST", "/item", aliceTok, `{"name":"x","price":1000000}`, 201, ""},
		{"create bidi override", "POST", "/item", aliceTok, `{"name":"lamp \u202egnp.exe","price":1}`, 400, "U+202E"},
		{"create zero-width space", "POST", "/item", aliceTok, `{"name":"la\u200bmp","price":1}`, 400, "invisible"},
		{"create control character", "POST", "/item", aliceTok, `{"name":"lamp\ncheap","price":1}`, 400, "control"},
		{"create name too long", "POST", "/item", aliceTok, `{"name":"` + strings.Repeat("é", 201) + `","price":1}`, 400, "at most 200 characters"},
		{"update huge price", "PUT", "/item/" + id, aliceTok, `{"name":"y","price":1e308}`, 400, "price"},

		{"update no token", "PUT", "/item/" + id, "", `{"name":"y","price":2}`, 401, ""},
		{"update not owner", "PUT", "/item/" + id, bobTok, `{"name":"y","price":2}`, 403, ""},
		{"update unknown", "PUT", "/item/" + unknown, aliceTok, `{"name":"y","price":2}`, 404, ""},
		{"update bad id", "PUT", "/item/xyz", aliceTok, `{"name":"y","price":2}`, 400, ""},
		{"update invalid", "PUT", "/item/" + id, aliceTok, `{"name":"","price":2}`, 400, ""},
		{"update other id in body", "PUT", "/item/" + id, aliceTok, `{"id":"` + other + `","name":"y","price":2}`, 400, ""},
		// Old clients PUT back the whole item they got, id and owner included.
		{"update echoing item", "PUT", "/item/" + id, aliceTok,
			`{"id":"` + id + `","owner":"alice","name":"big lamp","price":15}`, 200, `"name":"big lamp"`},
		{"get after update", "GET", "/item/" + id, "", "", 200, `"price":15`},

		{"delete no token", "DELETE", "/item/" + other, "", "", 401, ""},
		{"delete not owner", "DELETE", "/item/" + other, aliceTok, "", 403, ""},
		{"delete unknown", "DELETE", "/item/" + unknown, bobTok, "", 404, ""},
		{"delete", "DELETE", "/item/" + other, bobTok, "", 200, ""},
		{"get deleted", "GET", "/item/" + other, "", "", 404, ""},
		{"delete again", "DELETE", "/item/" + other, bobTok, "", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Do(tt.method, tt.path, tt.token, tt.body)
			if r.Status != tt.want {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.Status, r.Body, tt.want)
			}
			if tt.wantBody != "" && !strings.Contains(r.Body, tt.wantBody) {
				t.Errorf("body %s does not contain %s", r.Body, tt.wantBody)
			}
			if r.Status >= 400 {
				assertProblem(t, r)
			}
		})
	}
}

func TestItemRoutes_PermissionsUseFullEmail(t *testing.T) {
	s := newShop(t)
	id := s.AddItem("sam@one.example", "lamp", 5)
	// Same local part, other domain: same "owner" in listings, not the same person.
	impostor := s.Token("sam@two.example")
	if r := s.Do("PUT", "/item/"+id, impostor, `{"name":"mine","price":1}`); r.Status != http.StatusForbidden {
		t.Errorf("PUT by same local part = %d, want 403", r.Status)
	}
	if r := s.Do("DELETE", "/item/"+id, impostor, ""); r.Status != http.StatusForbidden {
		t.Errorf("DELETE by same local part = %d, want 403", r.Status)
	}
	if r := s.Do("POST", "/buy/"+id, impostor, ""); r.Status != http.StatusOK {
		t.Errorf("buy by same local part = %d, want 200 (not the seller)", r.Status)
	}
}

// assertProblem checks that an error has an application/problem+json body with its status.
func assertProblem(t *testing.T, r response) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("error Content-Type = %q, want application/problem+json", ct)
	}
	var p struct {
		Status int    `json:"status"`
		Title  string `json:"title"`
	}
	if err := json.Unmarshal([]byte(r.Body), &p); err != nil || p.Status != r.Status {
		t.Errorf("problem body %q (status %d): %v", r.Body, p.Status, err)
	}
}
