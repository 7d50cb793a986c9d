// Package store keeps the notifier's claims in MongoDB (or FerretDB): the records that let
// exactly one worker send each event's e-mail, however often RabbitMQ redelivers it
// (claims.go explains the protocol).
//
// It has the shape of every service's store (services/backend/store,
// services/auth/store): one Store made by New on the service's database, the only code of
// the service that speaks to MongoDB. Claims rely on unique inserts, never on conditional
// updates, which FerretDB does not make atomic; the hot path's inserts are sent in batches
// (insertbatch.go).
package store
