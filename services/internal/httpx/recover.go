package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"littleecom.io/littleecom/services/internal/problem"
)

// Recover turns a panicking handler into a logged 500 instead of a dropped connection.
// http.ErrAbortHandler is re-panicked: it is net/http's way to abort a response on purpose.
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			problem.Write(w, r, problem.Internal(fmt.Errorf("panic: %v", v)))
		}()
		next.ServeHTTP(w, r)
	})
}

// Chain wraps h in the middleware so that the first one listed runs first (outermost).
func Chain(h http.Handler, mws ...func(http.Handler) http.Handler) http.Handler {
	for _, mw := range slices.Backward(mws) {
		h = mw(h)
	}
	return h
}
