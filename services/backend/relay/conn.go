package relay

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"littleecom.io/littleecom/services/internal/topology"
)

// channel returns an open confirm-mode channel, dialling and declaring the topology when
// there is none. Only the Run goroutine calls it.
func (r *Relay) channel() (*amqp.Channel, error) {
	if r.ch != nil && !r.ch.IsClosed() && r.conn != nil && !r.conn.IsClosed() {
		return r.ch, nil
	}
	r.disconnect()

	cfg := amqp.Config{
		Heartbeat:  10 * time.Second,
		Locale:     "en_US",
		Dial:       amqp.DefaultDial(r.cfg.DialTimeout),
		Properties: amqp.Table{"connection_name": "littleecom-backend-event-relay"},
	}
	if r.cfg.Username != "" {
		cfg.SASL = []amqp.Authentication{&amqp.PlainAuth{Username: r.cfg.Username, Password: r.cfg.Password.Reveal()}}
	}
	conn, err := amqp.DialConfig(r.cfg.URL, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to rabbitmq at %s: %w", redact(r.cfg.URL), err)
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
	r.log.Info("event relay connected to rabbitmq", "url", redact(r.cfg.URL))
	return ch, nil
}

// disconnect drops the connection after a failure; the next round dials again.
func (r *Relay) disconnect() {
	if r.conn != nil {
		_ = r.conn.Close()
	}
	r.conn, r.ch = nil, nil
}

// redact removes a password from an AMQP URL before it is logged.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable url)"
	}
	return u.Redacted()
}

// errNotConnected is what the readiness check reports before the first connection.
var errNotConnected = errors.New("rabbitmq: not connected yet")
