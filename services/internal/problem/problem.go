// Package problem is the one error type the shop services return from their domain code and
// the one place that turns it into an HTTP response (RFC 9457 problem details). Handlers
// return or pass errors; only Write decides what a client may see.
package problem

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error by what the client can do about it; each maps to one HTTP status.
type Code string

// The codes the services use. Anything that is not a *Error is treated as CodeInternal.
const (
	Invalid         Code = "invalid"
	Unauthorized    Code = "unauthorized"
	Forbidden       Code = "forbidden"
	NotFound        Code = "not_found"
	Conflict        Code = "conflict"
	TooManyRequests Code = "too_many_requests"
	PayloadTooLarge Code = "payload_too_large"
	// MethodNotAllowed is for the router: a path that exists without the request's method.
	MethodNotAllowed Code = "method_not_allowed"
	Unavailable      Code = "unavailable"
	// CodeInternal is named apart from the others because Internal is the constructor.
	CodeInternal Code = "internal"
)

// Error is an error with a code and a detail that is safe to show to the client. Err, when
// set, is the cause; it is logged for Internal errors and never sent to the client.
type Error struct {
	Code   Code
	Detail string
	Err    error
	// RetryAfter, when positive, becomes the Retry-After header (429 and 503).
	RetryAfter time.Duration
}

// Error implements error. It includes the cause so that logs of wrapped errors are useful.
func (e *Error) Error() string {
	switch {
	case e.Err != nil && e.Detail != "":
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Detail, e.Err)
	case e.Err != nil:
		return fmt.Sprintf("%s: %v", e.Code, e.Err)
	default:
		return fmt.Sprintf("%s: %s", e.Code, e.Detail)
	}
}

// Unwrap returns the cause, so errors.Is/As see through an *Error.
func (e *Error) Unwrap() error { return e.Err }

// CodeOf returns the code of the first *Error in err's chain, CodeInternal when there is none
// and "" for a nil error.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	if pe, ok := errors.AsType[*Error](err); ok {
		return pe.Code
	}
	return CodeInternal
}

func newf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// Invalidf reports a request the client must fix (400).
func Invalidf(format string, args ...any) *Error { return newf(Invalid, format, args...) }

// Unauthorizedf reports missing or bad credentials (401).
func Unauthorizedf(format string, args ...any) *Error { return newf(Unauthorized, format, args...) }

// Forbiddenf reports an authenticated caller without permission (403).
func Forbiddenf(format string, args ...any) *Error { return newf(Forbidden, format, args...) }

// NotFoundf reports a missing resource (404).
func NotFoundf(format string, args ...any) *Error { return newf(NotFound, format, args...) }

// Conflictf reports a state conflict such as a duplicate or an already sold item (409).
func Conflictf(format string, args ...any) *Error { return newf(Conflict, format, args...) }

// PayloadTooLargef reports a body over the limit (413).
func PayloadTooLargef(format string, args ...any) *Error {
	return newf(PayloadTooLarge, format, args...)
}

// Unavailablef reports a dependency that is down (503).
func Unavailablef(format string, args ...any) *Error { return newf(Unavailable, format, args...) }

// TooManyf reports a rate limit (429); retryAfter becomes the Retry-After header.
func TooManyf(retryAfter time.Duration, format string, args ...any) *Error {
	e := newf(TooManyRequests, format, args...)
	e.RetryAfter = retryAfter
	return e
}

// Internal wraps an unexpected error (500). The client sees only "internal error".
func Internal(err error) *Error { return &Error{Code: CodeInternal, Err: err} }
