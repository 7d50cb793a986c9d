// Package relay publishes the backend's outbox to RabbitMQ: persistent messages, publisher
// confirms, many confirms outstanding per batch. An entry leaves the outbox only after the
// broker acknowledged it, so a broker outage delays events and never loses them; the relay
// reconnects with back-off and declares the topology on every connection, so a fresh broker
// works. Delivery is at least once (a crash between the broker's ack and the delete, or two
// replicas draining at once, repeats an event); consumers deduplicate on event_id.
package relay
