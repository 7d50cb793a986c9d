// Package relay publishes the backend's events to RabbitMQ: persistent messages, publisher
// confirms, many confirms outstanding per batch. Requests hand it their events in memory
// (Enqueue) after the insert that wrote each event into its document; an event is recorded
// as published only after the broker acknowledged it, so a broker outage delays events and
// never loses them. Events nobody handed it (a process died first, or memory was full) are
// found in the database at start, on every new connection and periodically (see
// store.PendingEvents). The relay reconnects with back-off and declares the topology on
// every connection, so a fresh broker works. Delivery is at least once (a crash between the
// broker's ack and the record, or two replicas recovering the same event, repeats it);
// consumers deduplicate on event_id.
package relay
