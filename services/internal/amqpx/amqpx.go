// Package amqpx connects the services to RabbitMQ from the contract's env vars, the same way
// for the backend's event relay and the notifier: credentials from their own settings (filled
// from Secrets), a bounded dial, errors without passwords, and one reconnect back-off.
package amqpx

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/config"
)

// Defaults of Config's timings.
const (
	DefaultURL          = "amqp://127.0.0.1:5672/"
	DefaultDialTimeout  = 10 * time.Second
	DefaultReconnectMin = 500 * time.Millisecond
	DefaultReconnectMax = 30 * time.Second
)

// heartbeat lets both ends notice a dead peer within half a minute.
const heartbeat = 10 * time.Second

// Config is how to reach RabbitMQ. It is safe to log: the password is a Secret.
type Config struct {
	// URL is amqp://host:port/vhost. Credentials belong in Username/Password; one in the URL
	// (tests) is used when Username is empty, and never logged.
	URL      string        `env:"AMQP_URL"`
	Username string        `env:"AMQP_USERNAME"`
	Password config.Secret `env:"AMQP_PASSWORD"`
	// DialTimeout bounds connecting (TCP and the AMQP handshake).
	DialTimeout time.Duration
	// ReconnectMin and ReconnectMax bound the wait between connection attempts after a
	// failure, doubling in between (see Backoff).
	ReconnectMin, ReconnectMax time.Duration
}

// ConfigFromEnv reads AMQP_URL, AMQP_USERNAME and AMQP_PASSWORD. Without a username the URL's
// credentials apply, and without those the broker's default user.
func ConfigFromEnv() (Config, error) {
	cfg := Config{URL: DefaultURL}
	if err := config.Parse(&cfg); err != nil {
		return cfg, err
	}
	return cfg.WithDefaults(), nil
}

// WithDefaults fills in the unset timings.
func (c Config) WithDefaults() Config {
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	switch {
	case c.ReconnectMin <= 0 && c.ReconnectMax > 0:
		c.ReconnectMin = min(DefaultReconnectMin, c.ReconnectMax)
	case c.ReconnectMin <= 0:
		c.ReconnectMin = DefaultReconnectMin
	}
	switch {
	case c.ReconnectMax <= 0:
		c.ReconnectMax = max(DefaultReconnectMax, c.ReconnectMin)
	case c.ReconnectMax < c.ReconnectMin:
		c.ReconnectMax = c.ReconnectMin
	}
	return c
}

// Validate reports a URL that cannot be dialled.
func (c Config) Validate() error {
	if c.URL == "" {
		return fmt.Errorf("%s is empty", contract.EnvAMQPURL)
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "amqp" && u.Scheme != "amqps") || u.Host == "" {
		return fmt.Errorf("%s=%q: want amqp://host:port/vhost", contract.EnvAMQPURL, Redact(c.URL))
	}
	return nil
}

// LogValue shows the settings without the password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", Redact(c.URL)),
		slog.String("username", c.Username),
		slog.Bool("password_set", c.Password.IsSet()),
	)
}

// Dial connects as connectionName (shown in RabbitMQ's management UI).
func Dial(c Config, connectionName string) (*amqp.Connection, error) {
	c = c.WithDefaults()
	cfg := amqp.Config{
		Heartbeat:  heartbeat,
		Locale:     "en_US",
		Dial:       amqp.DefaultDial(c.DialTimeout),
		Properties: amqp.Table{"connection_name": connectionName},
	}
	if c.Username != "" {
		cfg.SASL = []amqp.Authentication{&amqp.PlainAuth{Username: c.Username, Password: c.Password.Reveal()}}
	}
	conn, err := amqp.DialConfig(c.URL, cfg)
	if err != nil {
		// The broker's reason ("username or password not allowed") says more than the
		// library's wrapping of it.
		if ae, ok := errors.AsType[*amqp.Error](err); ok {
			return nil, fmt.Errorf("connect to rabbitmq at %s: %s", Redact(c.URL), ae.Reason)
		}
		return nil, fmt.Errorf("connect to rabbitmq at %s: %w", Redact(c.URL), err)
	}
	return conn, nil
}

// Redact removes a password from an AMQP URL before it is logged.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable url)"
	}
	return u.Redacted()
}
