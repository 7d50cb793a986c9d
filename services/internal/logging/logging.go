// Package logging builds the services' slog logger from LOG_LEVEL and LOG_FORMAT: JSON by
// default, because Fluentd parses container output line by line.
package logging

import (
	"io"
	"log/slog"
	"os"
	"strings"

	"littleecom.io/littleecom/internal/contract"
)

// New returns a logger for the service writing to stderr, tagged with service=<name>.
func New(service string) *slog.Logger {
	return NewTo(os.Stderr, service, os.Getenv(contract.EnvLogLevel), os.Getenv(contract.EnvLogFormat))
}

// NewTo is New with explicit output, level and format (for tests and tools). Unknown levels
// mean info and unknown formats mean json: a logging typo should not stop a service. A
// line logged with a context that carries a span has its trace_id and span_id.
func NewTo(w io.Writer, service, level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: ParseLevel(level)}
	var h slog.Handler
	if strings.EqualFold(strings.TrimSpace(format), "text") {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(traceHandler{h}).With("service", service)
}

// ParseLevel maps debug/info/warn/error (any case) to a slog level, info otherwise.
func ParseLevel(s string) slog.Level {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
