package notifier

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/config"
)

// Defaults of the consumer tuning (see docs/performance-notifier.md for how they were chosen).
const (
	DefaultPrefetch    = 64
	DefaultWorkers     = 32
	DefaultMaxAttempts = 5
)

// DefaultShutdownTimeout bounds the HTTP server's graceful stop.
const DefaultShutdownTimeout = 5 * time.Second

// ConfigFromEnv reads the notifier's settings from the contract's environment variables.
func ConfigFromEnv() (Config, error) {
	cfg := Config{
		ManagementAddr:  config.DefaultManagementAddr,
		ShutdownTimeout: DefaultShutdownTimeout,
		Prefetch:        DefaultPrefetch,
		Workers:         DefaultWorkers,
		MaxAttempts:     DefaultMaxAttempts,
		SMTP: SMTPConfig{
			Host: "127.0.0.1",
			Port: 25,
			From: "LittleEcom <no-reply@littleecom.local>",
			// StartTLS unset: Always with relay credentials, IfAvailable without (Config.resolved).
		},
	}
	if err := config.Parse(&cfg); err != nil {
		return cfg, err
	}
	var err error
	if cfg.AMQP, err = amqpx.ConfigFromEnv(); err != nil {
		return cfg, err
	}
	switch cfg.SMTP.StartTLS {
	case "", contract.SMTPStartTLSIfAvailable, contract.SMTPStartTLSAlways, contract.SMTPStartTLSNever:
	default:
		return cfg, fmt.Errorf("%s=%q: must be %s, %s or %s", contract.EnvSMTPStartTLS, cfg.SMTP.StartTLS,
			contract.SMTPStartTLSIfAvailable, contract.SMTPStartTLSAlways, contract.SMTPStartTLSNever)
	}
	// An SMTP_HOST that is set but empty is the operator saying "no relay configured": the
	// notifier then leaves the events in their queues instead of failing them into the
	// dead-letter queue. Unset keeps the local default for development.
	if host, set := os.LookupEnv(contract.EnvSMTPHost); set && host == "" {
		cfg.SMTP.Host = ""
		cfg.NoRelay = true
	}
	return cfg.resolved()
}

// LogValue lists the settings for the start-up log, without secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("management_addr", c.ManagementAddr),
		slog.Any("rabbitmq", c.AMQP),
		slog.Int("prefetch", c.Prefetch),
		slog.Int("workers", c.Workers),
		slog.Int("max_attempts", c.MaxAttempts),
		slog.Duration("claim_lease", c.ClaimLease),
		slog.String("smtp_host", c.SMTP.Host),
		slog.Int("smtp_port", c.SMTP.Port),
		slog.String("smtp_from", c.SMTP.From),
		slog.String("smtp_username", c.SMTP.Username),
		slog.Bool("smtp_password_set", c.SMTP.Password.IsSet()),
		slog.String("smtp_starttls", c.SMTP.StartTLS),
	)
}
