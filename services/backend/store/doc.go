// Package store keeps the backend's items, orders and outbox in MongoDB (or FerretDB).
//
// These rules shape it, all forced by FerretDB (see DESIGN.md):
//   - A buy is claimed by inserting the order whose _id is the item's id: of many concurrent
//     inserts exactly one wins, on FerretDB as on MongoDB. Conditional updates are not atomic
//     on FerretDB, so no claim relies on one.
//   - There are no transactions, so every event is written to the outbox as a pending entry
//     before its domain write; the relay publishes an entry only once its domain write is
//     known to have succeeded (see outbox.go).
//   - Items are never removed: DELETE marks them deleted, so an add event still finds its item.
//   - Single-document reads and writes filter on _id alone, the only filter FerretDB pushes
//     down to SQLite, and against FerretDB operations are queued (gate.go).
package store
