// Package store keeps auth's accounts, refresh tokens (with their revoked families), the
// abuse limits' slots and the records of deleted accounts in MongoDB (or FerretDB), in
// contract.DatabaseAuth.
//
// It has the shape of every service's store (services/backend/store,
// services/notifier/store): one Store made by New on the service's database, the only code
// of the service that speaks to MongoDB; the handlers call its methods and compare its
// errors (ErrNotFound, ErrDuplicate). Claims rely on unique inserts, never on conditional
// updates, which FerretDB does not make atomic: a refresh token is rotated by inserting its
// child under a unique parent, a limit's slot is taken by inserting its _id.
package store
