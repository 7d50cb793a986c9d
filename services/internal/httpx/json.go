// Package httpx holds the HTTP plumbing every shop service shares: JSON in and out,
// middleware (request ids, logging, recovery, CORS) and a server with timeouts and a
// bounded graceful shutdown.
package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"littleecom.io/littleecom/services/internal/problem"
)

// DefaultMaxBody is a body limit that fits every request of the shop's API.
const DefaultMaxBody int64 = 64 << 10

// DecodeJSON reads one JSON value from the request body into dst. It returns a
// *problem.Error: 413 when the body exceeds maxBytes, 400 when it is empty, malformed, of the
// wrong type, or followed by trailing data. Unknown fields are accepted, because old clients
// (PUT /item/{id} echoes id and owner) send more than we read.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any, maxBytes int64) error {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBody
	}
	body := http.MaxBytesReader(w, r.Body, maxBytes)
	dec := json.NewDecoder(body)
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(err, maxBytes)
	}
	// A second value after the first is a client bug we would otherwise silently ignore.
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if err != nil {
			if p := decodeProblem(err, maxBytes); p.Code == problem.PayloadTooLarge {
				return p
			}
		}
		return problem.Invalidf("request body must hold a single JSON value")
	}
	return nil
}

func decodeProblem(err error, maxBytes int64) *problem.Error {
	var (
		tooLarge  *http.MaxBytesError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return problem.PayloadTooLargef("request body exceeds %d bytes", maxBytes)
	case errors.Is(err, io.EOF):
		return problem.Invalidf("request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem.Invalidf("request body is truncated JSON")
	case errors.As(err, &syntaxErr):
		return problem.Invalidf("malformed JSON at byte %d", syntaxErr.Offset)
	case errors.As(err, &typeErr):
		if typeErr.Field != "" {
			return problem.Invalidf("field %q must be of type %s", typeErr.Field, typeErr.Type)
		}
		return problem.Invalidf("request body must be a JSON %s", typeErr.Type)
	default:
		return &problem.Error{Code: problem.Invalid, Detail: "malformed JSON", Err: fmt.Errorf("decode: %w", err)}
	}
}

// WriteJSON writes v as JSON with the given status. An encoding failure after the header is
// sent cannot be reported to the client; it would be a programming error.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteText writes s as text/plain, which the original shop's clients expect for tokens and
// ids.
func WriteText(w http.ResponseWriter, status int, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, s)
}
