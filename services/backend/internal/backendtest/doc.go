// Package backendtest holds helpers the backend's tests share: a TCP proxy that plays a
// RabbitMQ outage, and reading what arrived in a queue. Only test files import it.
package backendtest
