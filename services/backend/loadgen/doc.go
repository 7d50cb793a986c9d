// Package loadgen drives the backend over HTTP at a fixed concurrency and reports, per route,
// requests per second, p50/p99 latency, errors and the CPU time per request of the backend
// process and of the database process separately (from /proc/<pid>/stat).
//
// It runs everything on this machine, on loopback only: FerretDB and the backend as child
// processes (the same binary, re-executed in a child mode, so the backend is built from this
// tree), a JWKS for the tokens it signs, and a fresh vhost on the local RabbitMQ so that the
// backend's event relay publishes as in production. cmd/loadgen is its command.
package loadgen
