package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/services/internal/tokens"
)

// target is a backend under measurement with the item ids its own requests created.
type target struct {
	d *driver

	mu     sync.Mutex
	seeded []string // the items of GET /items and GET /item/{id}
	posted []string // the items POST /item created, for the buys
}

func (t *target) keep(body []byte) {
	t.mu.Lock()
	t.posted = append(t.posted, string(body))
	t.mu.Unlock()
}

// routeNames are the routes of -routes, in the order they must run (buy needs post).
var routeNames = []string{routeItems, routeItem, routePost, routeBuy}

// The routes' names in -routes.
const (
	routeItems = "items"
	routeItem  = "item"
	routePost  = "post"
	routeBuy   = "buy"
)

// drive seeds each target's shop, then measures each route on each target in turn (ours,
// the original, the database alone: alternated route by route, so that all three see the
// same machine) and prints the table.
func drive(ctx context.Context, targets []*target, y *yardstick, dbPID int, signer *tokens.Signer, valid *validator, o options) error {
	sign := func(email string) string {
		tok, _, err := signer.Sign(email, email)
		if err != nil {
			panic(err) // a fresh Ed25519 key cannot fail to sign
		}
		valid.add(tok, email)
		return tok
	}
	seller := sign("seller@loadgen.test")
	buyers := make([]string, o.concurrency)
	for i := range buyers {
		buyers[i] = sign(fmt.Sprintf("buyer%d@loadgen.test", i))
	}
	itemBody := []byte(`{"name":"load test lamp","price":12.5}`)

	routes := map[string]bool{}
	for name := range strings.SplitSeq(o.routes, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(routeNames, name) {
			return fmt.Errorf("unknown route %q in -routes", name)
		}
		routes[name] = true
	}

	for _, t := range targets {
		seed := phase{name: "seed", n: o.items, events: true, next: func(int) call {
			return call{method: http.MethodPost, path: "/item", token: seller, body: itemBody, want: 201, keep: t.keep}
		}}
		if r, err := t.d.run(ctx, seed); err != nil || r.errors > 0 {
			return errors.Join(err, fmt.Errorf("seeding %d items on %s: %d errors, first: %s", o.items, t.d.name, r.errors, r.firstErr))
		}
		t.seeded, t.posted = t.posted, nil
	}

	fmt.Printf("loadgen: %d CPUs (%s), %s; ferretdb pid %d", runtime.NumCPU(), cpuModel(), runtime.Version(), dbPID)
	for _, t := range targets {
		fmt.Printf(", %s pid %d", t.d.name, t.d.servicePID)
	}
	fmt.Println()
	if err := printHeader(os.Stdout, o.concurrency, o.rate); err != nil {
		return err
	}
	for _, t := range targets {
		warm := phase{name: "warm-up (not a route)", n: min(o.requests, 2000), next: func(i int) call {
			return call{method: http.MethodGet, path: "/item/" + t.seeded[i%len(t.seeded)], want: 200}
		}}
		if err := runAndPrint(ctx, t.d, warm); err != nil {
			return err
		}
	}
	var yd *driver
	var seededIDs []bson.ObjectID
	if y != nil {
		yd = y.driver(o, dbPID)
		for _, s := range targets[0].seeded {
			id, err := bson.ObjectIDFromHex(s)
			if err != nil {
				return fmt.Errorf("seeded id %q: %w", s, err)
			}
			seededIDs = append(seededIDs, id)
		}
	}
	for _, name := range routeNames {
		if !routes[name] {
			continue
		}
		for _, t := range targets {
			if err := runAndPrint(ctx, t.d, httpPhase(name, t, seller, buyers, itemBody, o)); err != nil {
				return err
			}
		}
		if y != nil {
			if err := runAndPrint(ctx, yd, y.phase(name, seededIDs, buyers, o)); err != nil {
				return err
			}
		}
	}
	return nil
}

func runAndPrint(ctx context.Context, d *driver, p phase) error {
	r, err := d.run(ctx, p)
	if err != nil {
		return err
	}
	return printResult(os.Stdout, r)
}

// httpPhase is route name driven over HTTP on t.
func httpPhase(name string, t *target, seller string, buyers []string, itemBody []byte, o options) phase {
	switch name {
	case routeItems:
		return phase{name: fmt.Sprintf("GET /items (%d)", o.items), n: o.requests, next: func(int) call {
			return call{method: http.MethodGet, path: "/items", want: 200}
		}}
	case routeItem:
		return phase{name: "GET /item/{id}", n: o.requests, next: func(i int) call {
			return call{method: http.MethodGet, path: "/item/" + t.seeded[i%len(t.seeded)], want: 200}
		}}
	case routePost:
		return phase{name: "POST /item", n: o.requests, events: true, next: func(int) call {
			return call{method: http.MethodPost, path: "/item", token: seller, body: itemBody, want: 201, keep: t.keep}
		}}
	default: // buy: each buy takes a distinct item that POST /item just created, so every one must win.
		return phase{name: "POST /buy/{id}", n: o.requests, events: true, limit: func() int {
			t.mu.Lock()
			defer t.mu.Unlock()
			return len(t.posted) // one buy per item POST /item created
		}, next: func(i int) call {
			t.mu.Lock()
			defer t.mu.Unlock()
			return call{method: http.MethodPost, path: "/buy/" + t.posted[i], token: buyers[i%len(buyers)], want: 200}
		}}
	}
}

// phase is route name's database commands, issued straight with the driver.
func (y *yardstick) phase(name string, seeded []bson.ObjectID, buyers []string, o options) phase {
	direct := func(fn func(ctx context.Context) error) call { return call{direct: fn} }
	switch name {
	case routeItems:
		return phase{name: fmt.Sprintf("GET /items (%d)", o.items), n: o.requests, next: func(int) call {
			return direct(y.listing)
		}}
	case routeItem:
		return phase{name: "GET /item/{id}", n: o.requests, next: func(i int) call {
			return direct(func(ctx context.Context) error { return y.item(ctx, seeded[i%len(seeded)]) })
		}}
	case routePost:
		return phase{name: "POST /item", n: o.requests, next: func(int) call { return direct(y.post) }}
	default:
		return phase{name: "POST /buy/{id}", n: o.requests, limit: y.postedCount, next: func(i int) call {
			return direct(func(ctx context.Context) error { return y.buy(ctx, i, buyers[i%len(buyers)]) })
		}}
	}
}
