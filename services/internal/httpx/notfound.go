package httpx

import (
	"net/http"

	"littleecom.io/littleecom/services/internal/problem"
)

// ProblemNotFound makes the ServeMux's own 404 and 405 answers problem+json like every other
// error. It recognises them by the request having matched no pattern (the mux sets
// r.Pattern on the request it is given), so a handler's own 404 passes through untouched.
// The mux's Allow header on 405 is kept.
func ProblemNotFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(&unmatchedWriter{ResponseWriter: w, r: r}, r)
	})
}

type unmatchedWriter struct {
	http.ResponseWriter
	r       *http.Request
	swallow bool
}

func (u *unmatchedWriter) WriteHeader(code int) {
	if u.r.Pattern != "" || (code != http.StatusNotFound && code != http.StatusMethodNotAllowed) {
		u.ResponseWriter.WriteHeader(code)
		return
	}
	u.swallow = true // the mux's text body follows; ours replaces it
	h := u.Header()
	h.Del("Content-Type")
	h.Del("X-Content-Type-Options")
	if code == http.StatusNotFound {
		problem.Write(u.ResponseWriter, u.r, problem.NotFoundf("no route for %s %s", u.r.Method, u.r.URL.Path))
		return
	}
	problem.Write(u.ResponseWriter, u.r, &problem.Error{Code: problem.MethodNotAllowed,
		Detail: "method " + u.r.Method + " not allowed; allowed: " + h.Get("Allow")})
}

func (u *unmatchedWriter) Write(b []byte) (int, error) {
	if u.swallow {
		return len(b), nil
	}
	return u.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (u *unmatchedWriter) Unwrap() http.ResponseWriter { return u.ResponseWriter }
