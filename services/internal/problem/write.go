package problem

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"

	"littleecom.io/littleecom/services/internal/reqctx"
)

// ContentType is the media type of every error body (RFC 9457).
const ContentType = "application/problem+json"

// Body is the JSON shape of an error response.
type Body struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// Status returns the HTTP status for a code.
func Status(c Code) int {
	switch c {
	case Invalid:
		return http.StatusBadRequest
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case TooManyRequests:
		return http.StatusTooManyRequests
	case PayloadTooLarge:
		return http.StatusRequestEntityTooLarge
	case MethodNotAllowed:
		return http.StatusMethodNotAllowed
	case Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// Write sends err as a problem+json response. Internal errors are logged (by the request's
// logger, which carries the request id) and answered with a generic detail, so no stack,
// query or driver message leaks to clients.
func Write(w http.ResponseWriter, r *http.Request, err error) {
	code := CodeOf(err)
	if code == "" {
		code = CodeInternal
	}
	status := Status(code)
	ctx := r.Context()
	body := Body{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Instance:  r.URL.Path,
		RequestID: reqctx.RequestID(ctx),
	}
	var pe *Error
	errors.As(err, &pe)
	if status >= 500 && code != Unavailable {
		body.Detail = "internal error"
		reqctx.Logger(ctx).ErrorContext(ctx, "request failed", "error", err)
	} else if pe != nil {
		body.Detail = pe.Detail
		if code == Unavailable {
			reqctx.Logger(ctx).WarnContext(ctx, "dependency unavailable", "error", err)
		}
	}
	if pe != nil && pe.RetryAfter > 0 {
		secs := int(math.Ceil(pe.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
