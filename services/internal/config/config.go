// Package config reads service settings from environment variables, through
// github.com/caarlos0/env: a service's Config struct names each variable in an `env` tag
// (the contract's name, internal/contract), holds its defaults before Parse, and Parse
// overwrites the fields whose variable is set. What this package adds to the library keeps
// the services' behaviour from before it: values are trimmed, a blank value means "use the
// default", lists drop blank items, and an error names the variable and the value, so a
// typo in a Deployment fails at start with a clear message instead of running with a
// default.
package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"littleecom.io/littleecom/internal/contract"
)

// Default listen addresses: the contract's ports on every interface.
var (
	// DefaultHTTPAddr is the HTTP server's address when HTTP_ADDR is unset.
	DefaultHTTPAddr = ":" + strconv.Itoa(contract.HTTPPort)
	// DefaultManagementAddr is the management server's (health, readiness and metrics)
	// address when MANAGEMENT_ADDR is unset.
	DefaultManagementAddr = ":" + strconv.Itoa(contract.ManagementPort)
)

// Parse sets the fields of the struct dst points to from the variables their `env` tags
// name. A variable that is unset, empty or blank leaves its field as it was: set the
// defaults before calling Parse. Fields tagged `env:"-"` (nested configs with their own
// FromEnv) and untagged ones are left alone. An int is read as strconv.Atoi does, a
// time.Duration by time.ParseDuration ("15m", "720h"), a bool by strconv.ParseBool, and a
// []string as a comma-separated list.
func Parse(dst any) error {
	environ := trimmedEnviron()
	err := env.ParseWithOptions(dst, env.Options{
		Environment: environ,
		FuncMap: map[reflect.Type]env.ParserFunc{
			reflect.TypeFor[int]():      func(v string) (any, error) { return strconv.Atoi(v) },
			reflect.TypeFor[[]string](): func(v string) (any, error) { return list(v), nil },
		},
	})
	if err == nil {
		return nil
	}
	return clarify(reflect.TypeOf(dst).Elem(), environ, err)
}

// trimmedEnviron is the environment with blanks trimmed from the values, so that a value of
// spaces counts as empty (the library then keeps the default) and " 10" is 10.
func trimmedEnviron() map[string]string {
	m := make(map[string]string)
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// list splits a comma-separated value, trims the items and drops the empty ones. A value of
// only commas gives an empty list: callers whose default is not empty keep it then.
func list(v string) []string {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// clarify rewrites the library's parse errors, which name the Go field and type, into ours,
// which name the variable and its value and say what was expected.
func clarify(t reflect.Type, environ map[string]string, err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return err
	}
	errs := make([]error, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if !errors.As(e, &pe) {
			errs = append(errs, e)
			continue
		}
		key := envKey(t, pe.Name)
		errs = append(errs, fmt.Errorf("%s=%q: %s", key, environ[key], expected(pe.Type)))
	}
	return errors.Join(errs...)
}

// envKey is the variable of the field called name, in t or a struct nested in it.
func envKey(t reflect.Type, name string) string {
	for _, f := range reflect.VisibleFields(t) {
		if f.Name == name {
			if key, _, _ := strings.Cut(f.Tag.Get("env"), ","); key != "" && key != "-" {
				return key
			}
		}
		if f.Type.Kind() == reflect.Struct && f.Tag.Get("env") != "-" {
			if key := envKey(f.Type, name); key != "" {
				return key
			}
		}
	}
	return ""
}

func expected(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "not a duration such as 30s or 15m"
	case t.Kind() == reflect.Bool:
		return "not a boolean (true or false)"
	case t.Kind() == reflect.Int:
		return "not an integer"
	default:
		return "not a valid " + t.String()
	}
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
