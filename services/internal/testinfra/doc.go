// Package testinfra starts the real backing services the shop's tests run against: an
// embedded FerretDB (MongoDB wire protocol on SQLite) per test and a fresh RabbitMQ vhost per
// test on the local broker. Only test files import it.
package testinfra
