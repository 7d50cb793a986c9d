// Package config reads service settings from environment variables. Every helper returns an
// error naming the variable, so a typo in a Deployment fails at start with a clear message
// instead of silently running with a default.
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"littleecom.io/littleecom/internal/contract"
)

// String returns the variable, or def when it is unset or empty.
func String(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

// HTTPAddr is the listen address of a service's HTTP server: HTTP_ADDR, or the contract's
// port on every interface.
func HTTPAddr() string {
	return String(contract.EnvHTTPAddr, ":"+strconv.Itoa(contract.HTTPPort))
}

// ManagementAddr is the listen address of a service's management server (health, readiness
// and metrics): MANAGEMENT_ADDR, or the contract's management port on every interface.
func ManagementAddr() string {
	return String(contract.EnvManagementAddr, ":"+strconv.Itoa(contract.ManagementPort))
}

// Int returns the variable as an int, or def when it is unset or empty.
func Int(key string, def int) (int, error) {
	v := String(key, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not an integer", key, v)
	}
	return n, nil
}

// Duration returns the variable parsed by time.ParseDuration ("15m", "720h"), or def.
func Duration(key string, def time.Duration) (time.Duration, error) {
	v := String(key, "")
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not a duration such as 30s or 15m", key, v)
	}
	return d, nil
}

// Bool returns the variable parsed by strconv.ParseBool, or def.
func Bool(key string, def bool) (bool, error) {
	v := String(key, "")
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: not a boolean (true or false)", key, v)
	}
	return b, nil
}

// List returns the comma-separated variable with blanks trimmed and empty items dropped, or
// def when it is unset or empty.
func List(key string, def []string) []string {
	v := String(key, "")
	if v == "" {
		return def
	}
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	if len(out) == 0 {
		return def
	}
	return out
}

// Secret is a string that never shows itself in logs, fmt output or JSON, so that a whole
// config struct can be logged at start without leaking passwords or keys.
type Secret string

const masked = "***"

// String implements fmt.Stringer.
func (s Secret) String() string { return masked }

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return masked }

// Format covers every fmt verb, including %s and %q that would otherwise reach the value.
// fmt.Formatter has no error result: fmt records a failed write in the caller's own result.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = fmt.Fprintf(f, "%q", masked)
		return
	}
	_, _ = fmt.Fprint(f, masked)
}

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + masked + `"`), nil }

// MarshalText implements encoding.TextMarshaler (used by slog's text handler and others).
func (s Secret) MarshalText() ([]byte, error) { return []byte(masked), nil }

// Reveal returns the real value; call it only where the secret is used.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }
