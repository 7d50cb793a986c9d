// Package backend is the shop's items service: items for sale, buying them, the buyer's
// orders, behind the seed-compatible REST contract of README.md ("The shop's API"). Tokens
// are verified locally against auth's JWKS; events are written into the item or order they
// describe and reach RabbitMQ through package relay.
//
// Decisions a client may notice:
//   - A sold or deleted item has left the shop: GET, PUT and DELETE answer 404, buying it
//     409 (sold) or 404 (deleted). The buyer finds what they bought in GET /orders.
//   - Listings are ordered by id, oldest first. Without parameters they return up to
//     DefaultLimit items, a plain JSON array as before; when more exist a Link header
//     (rel="next") carries the cursor (?after=<last id>).
//   - /readyz checks MongoDB and RabbitMQ (the relay's connection). Requests themselves do
//     not need RabbitMQ, since events wait in their documents, yet a broker outage makes every
//     replica unready: a deliberate choice to surface it, worth revisiting if it hurts.
//
// Under load, identical listing requests share one query (coalesce.go, hand-written: unlike
// singleflight it never hands a request a query that began before it) and verified tokens
// are remembered until they expire (tokens.Verifier's cache); docs/performance-backend.md has figures.
package backend
