package cluster

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// buyers is how many shoppers race for one item.
const buyers = 20

// feedBound is how soon every backend replica shows an item write: the replicas that did not
// write it hear of it on the item change feed (milliseconds), well within the item cache's
// 1 s ttl, so that a feed that carried nothing fails the specs that wait this long.
const feedBound = 500 * time.Millisecond

// The status codes below are the README's API table ("The shop's API").
func describeShopper() {
	Context("a shopper, through the ingress controller", func() {
		var seller, buyer *account

		BeforeAll(func(ctx SpecContext) {
			seller, buyer = newAccount("seller"), newAccount("buyer")
			for _, a := range []*account{seller, buyer} {
				api.register(ctx, a)
				api.signIn(ctx, a)
			}
		}, NodeTimeout(5*time.Minute))

		It("refuses an invalid e-mail, a short password and a wrong password, and keeps a taken address's account", func(ctx SpecContext) {
			post := func(path string, body any) request { return request{method: http.MethodPost, path: path, body: body} }
			// A taken address is answered like a new one (no account enumeration: auth's
			// choice over the REST table's 409) and its account is left as it was.
			taken := api.patient(ctx, post("/auth/register", map[string]string{"email": seller.email, "password": "another-secret"}))
			Expect(taken.status).To(Equal(http.StatusCreated), "register a taken address: %s", taken.text())
			Expect(taken.text()).To(MatchJSON(fmt.Sprintf(`{"email":%q}`, seller.email)), "the answer to a taken address")
			api.signIn(ctx, seller)
			api.expect(ctx, "register an invalid e-mail",
				post("/auth/register", map[string]string{"email": "not-an-email", "password": "secret1"}), http.StatusBadRequest)
			api.expect(ctx, "register a 5-character password",
				post("/auth/register", map[string]string{"email": "short-" + run + "@example.com", "password": "12345"}), http.StatusBadRequest)
			api.expect(ctx, "sign in with a wrong password",
				post("/auth/signin", map[string]string{"email": seller.email, "password": "wrong-password"}), http.StatusUnauthorized)
			var claims struct {
				Email string `json:"email"`
				Exp   int64  `json:"exp"`
			}
			decode(api.expect(ctx, "validate a token", post("/auth/validate", map[string]string{"token": seller.token}), http.StatusOK), &claims)
			Expect(claims.Email).To(Equal(seller.email))
			Expect(claims.Exp).To(BeNumerically(">", time.Now().Unix()))
		}, SpecTimeout(time.Minute))

		It("adds, reads, updates and deletes an item; only its owner may change it", func(ctx SpecContext) {
			body := map[string]any{"name": "lamp " + run, "price": 12.5}
			api.expect(ctx, "add without a token", request{method: http.MethodPost, path: "/item", body: body}, http.StatusUnauthorized)
			api.expect(ctx, "add with price 0",
				request{method: http.MethodPost, path: "/item", token: seller.token, body: map[string]any{"name": "x", "price": 0}}, http.StatusBadRequest)
			api.expect(ctx, "add without a name",
				request{method: http.MethodPost, path: "/item", token: seller.token, body: map[string]any{"name": "", "price": 1}}, http.StatusBadRequest)
			id := addItem(ctx, seller, "lamp "+run, 12.5)
			DeferCleanup(deleteItems, seller, []string{id})

			// Send back exactly what was read, with one field changed, as the original clients do.
			var raw map[string]any
			decode(api.expect(ctx, "read the item", request{method: http.MethodGet, path: "/item/" + id}, http.StatusOK), &raw)
			Expect(raw).To(Equal(map[string]any{"id": id, "owner": seller.owner(), "name": "lamp " + run, "price": 12.5}))
			raw["price"] = 15.0
			put := func(token string) request {
				return request{method: http.MethodPut, path: "/item/" + id, token: token, body: raw}
			}
			api.expect(ctx, "update someone else's item", put(buyer.token), http.StatusForbidden)
			api.expect(ctx, "update without a token", put(""), http.StatusUnauthorized)
			api.expect(ctx, "update one's own item", put(seller.token), http.StatusOK)
			// The ingress may send the next read to the other backend replica, which may hold
			// the item from the read above in its item cache: it forgets it when it hears of
			// the write on the item change feed, in milliseconds. The bound is well under the
			// cache's 1 s ttl, so a feed that did not carry the write fails here.
			Eventually(func(g Gomega) {
				r := api.send(ctx, request{method: http.MethodGet, path: "/item/" + id})
				g.Expect(r.status).To(Equal(http.StatusOK), "read the update: %s", r.text())
				var got item
				decode(r, &got)
				g.Expect(got).To(Equal(item{ID: id, Owner: seller.owner(), Name: "lamp " + run, Price: 15}))
			}).WithContext(ctx).Within(feedBound).ProbeEvery(10 * time.Millisecond).Should(Succeed())

			unknown := "/item/" + strings.Repeat("0", 23) + "1"
			api.expect(ctx, "read a malformed id", request{method: http.MethodGet, path: "/item/not-an-id"}, http.StatusBadRequest)
			api.expect(ctx, "read an unknown id", request{method: http.MethodGet, path: unknown}, http.StatusNotFound)
			api.expect(ctx, "update an unknown id", request{method: http.MethodPut, path: unknown, token: seller.token,
				body: map[string]any{"name": "lamp " + run, "price": 15}}, http.StatusNotFound)

			del := func(token string) request {
				return request{method: http.MethodDelete, path: "/item/" + id, token: token}
			}
			api.expect(ctx, "delete someone else's item", del(buyer.token), http.StatusForbidden)
			api.expect(ctx, "delete without a token", del(""), http.StatusUnauthorized)
			api.expect(ctx, "delete one's own item", del(seller.token), http.StatusOK)
			Eventually(func(g Gomega) {
				r := api.send(ctx, request{method: http.MethodGet, path: "/item/" + id})
				g.Expect(r.status).To(Equal(http.StatusNotFound), "read the deleted item: %s", r.text())
			}).WithContext(ctx).Within(feedBound).ProbeEvery(10 * time.Millisecond).Should(Succeed())
			api.expect(ctx, "delete it again", del(seller.token), http.StatusNotFound)
		}, SpecTimeout(2*time.Minute))

		It("lists every item, and one owner's", func(ctx SpecContext) {
			lister := newAccount("lister")
			api.register(ctx, lister)
			api.signIn(ctx, lister)
			chair := addItem(ctx, lister, "chair "+run, 30)
			table := addItem(ctx, lister, "table "+run, 80)
			DeferCleanup(deleteItems, lister, []string{chair, table})

			ids := func(items []item) []string {
				out := make([]string, len(items))
				for i, it := range items {
					out[i] = it.ID
				}
				return out
			}
			Expect(ids(api.listItems(ctx, "/items"))).To(ContainElements(chair, table))
			Expect(api.listItems(ctx, "/items/"+lister.owner())).To(ConsistOf(
				item{ID: chair, Owner: lister.owner(), Name: "chair " + run, Price: 30},
				item{ID: table, Owner: lister.owner(), Name: "table " + run, Price: 80},
			))
			r := api.expect(ctx, "list an owner without items", request{method: http.MethodGet, path: "/items/nobody-" + run}, http.StatusOK)
			Expect(r.text()).To(Equal("[]"))
		}, SpecTimeout(2*time.Minute))

		It(fmt.Sprintf("lets exactly one of %d concurrent buyers win an item and shows the winner's order", buyers), func(ctx SpecContext) {
			id := addItem(ctx, seller, "race "+run, 9.5)
			api.expect(ctx, "buy one's own item", request{method: http.MethodPost, path: "/buy/" + id, token: seller.token}, http.StatusBadRequest)

			racers := make([]*account, buyers)
			for i := range racers {
				racers[i] = newAccount(fmt.Sprintf("racer%02d", i))
				api.register(ctx, racers[i])
				api.signIn(ctx, racers[i])
			}
			statuses := race(ctx, id, racers)

			winners := 0
			var winner *account
			for i, s := range statuses {
				Expect(s).To(BeElementOf(http.StatusOK, http.StatusNotFound, http.StatusConflict), "buyer %d", i)
				if s == http.StatusOK {
					winners++
					winner = racers[i]
				}
			}
			Expect(winners).To(Equal(1), "winners among %d buyers; statuses %v", buyers, statuses)

			var orders []struct {
				ItemID string  `json:"item_id"`
				Owner  string  `json:"owner"`
				Name   string  `json:"name"`
				Price  float64 `json:"price"`
			}
			decode(api.expect(ctx, "the winner's orders", request{method: http.MethodGet, path: "/orders", token: winner.token}, http.StatusOK), &orders)
			Expect(orders).To(HaveLen(1))
			Expect(orders[0].ItemID).To(Equal(id))
			Expect(orders[0].Owner).To(Equal(seller.owner()))
			Expect(orders[0].Name).To(Equal("race " + run))
			Expect(orders[0].Price).To(Equal(9.5))
			loser := racers[slices.IndexFunc(racers, func(a *account) bool { return a != winner })]
			r := api.expect(ctx, "a loser's orders", request{method: http.MethodGet, path: "/orders", token: loser.token}, http.StatusOK)
			Expect(r.text()).To(Equal("[]"))
			again := api.send(ctx, request{method: http.MethodPost, path: "/buy/" + id, token: buyer.token})
			Expect(again.status).To(BeElementOf(http.StatusNotFound, http.StatusConflict), "buy the sold item again: %s", again.text())
			api.expect(ctx, "read the sold item", request{method: http.MethodGet, path: "/item/" + id}, http.StatusNotFound)
		}, SpecTimeout(5*time.Minute))
	})
}

// addItem adds an item as acc and returns its id.
func addItem(ctx context.Context, acc *account, name string, price float64) string {
	GinkgoHelper()
	r := api.expect(ctx, "add "+name, request{method: http.MethodPost, path: "/item", token: acc.token,
		body: map[string]any{"name": name, "price": price}}, http.StatusCreated)
	Expect(r.header.Get("Content-Type")).To(HavePrefix("text/plain"), "the new item's id is text")
	Expect(r.text()).To(MatchRegexp(`^[0-9a-f]{24}$`), "the new item's id (24 hex digits)")
	return r.text()
}

// deleteItems removes items a spec added (a DeferCleanup).
func deleteItems(ctx SpecContext, acc *account, ids []string) {
	for _, id := range ids {
		r := api.send(ctx, request{method: http.MethodDelete, path: "/item/" + id, token: acc.token})
		Expect(r.status).To(BeElementOf(http.StatusOK, http.StatusNotFound), "deleting item %s: %s", id, r.text())
	}
}

// race sends every racer's POST /buy/{id} at once and returns their statuses (0 for a
// transport error).
func race(ctx context.Context, id string, racers []*account) []int {
	statuses := make([]int, len(racers))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, a := range racers {
		wg.Go(func() {
			<-start
			r, err := api.try(ctx, request{method: http.MethodPost, path: "/buy/" + id, token: a.token})
			if err != nil {
				GinkgoWriter.Printf("buyer %d: %v\n", i, err)
				return
			}
			statuses[i] = r.status
			if r.status != http.StatusOK && r.status != http.StatusConflict && r.status != http.StatusNotFound {
				GinkgoWriter.Printf("buyer %d: %d %s\n", i, r.status, r.text())
			}
		})
	}
	close(start)
	wg.Wait()
	return statuses
}
