package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"littleecom.io/littleecom/services/internal/reqctx"
)

// HeaderRequestID carries the request id in and out.
const HeaderRequestID = "X-Request-ID"

// RequestID takes the caller's X-Request-ID when it looks sane (so one id follows a request
// through the Ingress and across services) or makes a new one, echoes it in the response
// and stores it in the context.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(HeaderRequestID)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(HeaderRequestID, id)
		next.ServeHTTP(w, r.WithContext(reqctx.WithRequestID(r.Context(), id)))
	})
}

// RequestIDFrom returns the request id stored by RequestID, or "".
func RequestIDFrom(ctx context.Context) string { return reqctx.RequestID(ctx) }

// validRequestID bounds what a client can inject into our logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !requestIDChar(c) {
			return false
		}
	}
	return true
}

// requestIDChar reports whether c is an ASCII letter, a digit, '-', '_' or '.'.
func requestIDChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Go 1.24+
	return hex.EncodeToString(b[:])
}
