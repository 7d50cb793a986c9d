// Package store keeps the backend's items and orders, with their pending events, in MongoDB
// (or FerretDB).
//
// These rules shape it, all forced by FerretDB (docs/performance-backend.md measures them):
//   - A buy is claimed by inserting the order whose _id is the item's id: of many concurrent
//     inserts exactly one wins, on FerretDB as on MongoDB. Conditional updates are not atomic
//     on FerretDB, so no claim relies on one.
//   - There are no transactions, so an event is written inside the document it describes, in
//     the same insert: it exists exactly when the write happened (see outbox.go).
//   - Items are never removed: DELETE marks them deleted, so a pending add event stays with
//     its item until it is published.
//   - Single-document reads and writes filter on _id alone, the only filter FerretDB pushes
//     down to SQLite, and against FerretDB operations are queued (gate.go).
package store
