package relay

import (
	"errors"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"

	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/topology"
)

// channel returns an open confirm-mode channel, dialling and declaring the topology when
// there is none. Only the Run goroutine calls it.
func (r *Relay) channel() (*amqp.Channel, error) {
	if r.ch != nil && !r.ch.IsClosed() && r.conn != nil && !r.conn.IsClosed() {
		return r.ch, nil
	}
	r.disconnect()

	conn, err := amqpx.Dial(r.cfg.Conn, "littleecom-backend-event-relay")
	if err != nil {
		return nil, err
	}
	if err := topology.Ensure(conn, r.cfg.Topology); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("declare topology: %w", err)
	}
	ch, err := conn.Channel()
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("open channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("enable publisher confirms: %w", err)
	}
	r.conn, r.ch = conn, ch
	r.setState(nil)
	r.log.Info("event relay connected to rabbitmq", "url", amqpx.Redact(r.cfg.Conn.URL))
	return ch, nil
}

// disconnect drops the connection after a failure; the next round dials again.
func (r *Relay) disconnect() {
	if r.conn != nil {
		_ = r.conn.Close()
	}
	r.conn, r.ch = nil, nil
}

// errNotConnected is what the readiness check reports before the first connection.
var errNotConnected = errors.New("rabbitmq: not connected yet")
