// Package store keeps the backend's items, orders and outbox in MongoDB (or FerretDB).
//
// Three rules shape it, all forced by FerretDB (see DESIGN.md):
//   - A buy is claimed by inserting the order whose _id is the item's id: of many concurrent
//     inserts exactly one wins, on FerretDB as on MongoDB. Conditional updates are not atomic
//     on FerretDB, so no claim relies on one.
//   - There are no transactions, so every event is written to the outbox as a pending entry
//     before its domain write; the relay publishes an entry only once the domain document
//     carrying the same event id exists (see outbox.go).
//   - Items are never removed: DELETE marks them deleted, so an add event still finds its item.
package store
