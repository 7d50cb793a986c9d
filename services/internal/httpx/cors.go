package httpx

import (
	"net/http"
	"strconv"
	"strings"

	"littleecom.io/littleecom/internal/cors"
)

// DefaultCORS is what the original shop allowed: any origin, no credentials.
func DefaultCORS() cors.Policy {
	return cors.Policy{
		Enabled:      true,
		AllowOrigins: []string{"*"},
		AllowMethods: []string{"GET", "POST", "PUT", "DELETE", "OPTIONS"},
		AllowHeaders: []string{"Authorization", "Content-Type", HeaderRequestID},
		MaxAge:       600,
	}
}

// CORS answers preflight requests itself and adds Access-Control-Allow-Origin to actual
// requests from origins the policy allows (cors.Policy.Allows: the edge matches origins the
// same way). It is for direct access without an edge: when the Ingress or gateway answers
// CORS, the operator turns it off (Enabled false) so that exactly one place emits
// Access-Control-* headers. With AllowCredentials it echoes the request's origin, never
// "*", because browsers refuse credentials with a wildcard. It sets headers with Set, never
// Add, so a handler or outer layer cannot cause a duplicate through it.
func CORS(cfg cors.Policy) func(http.Handler) http.Handler {
	if !cfg.Enabled {
		return func(next http.Handler) http.Handler { return next }
	}
	anyOrigin := cfg.AllowsAnyOrigin()
	methods := strings.Join(cfg.AllowMethods, ", ")
	headers := strings.Join(cfg.AllowHeaders, ", ")
	// The services always expose their own headers to scripts, and whatever the policy adds.
	expose := strings.Join(append([]string{HeaderRequestID, "Retry-After"}, cfg.ExposeHeaders...), ", ")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			if origin == "" {
				next.ServeHTTP(w, r)
				return
			}
			h := w.Header()
			h.Add("Vary", "Origin")
			preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
			if !cfg.Allows(origin) {
				if preflight {
					// No CORS headers: the browser blocks the actual request.
					w.WriteHeader(http.StatusNoContent)
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			if anyOrigin && !cfg.AllowCredentials {
				h.Set("Access-Control-Allow-Origin", "*")
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
			}
			if cfg.AllowCredentials {
				h.Set("Access-Control-Allow-Credentials", "true")
			}
			if !preflight {
				h.Set("Access-Control-Expose-Headers", expose)
				next.ServeHTTP(w, r)
				return
			}
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if methods != "" {
				h.Set("Access-Control-Allow-Methods", methods)
			}
			if headers != "" {
				h.Set("Access-Control-Allow-Headers", headers)
			} else if reqHeaders := r.Header.Get("Access-Control-Request-Headers"); reqHeaders != "" {
				h.Set("Access-Control-Allow-Headers", reqHeaders)
			}
			if cfg.MaxAge > 0 {
				h.Set("Access-Control-Max-Age", strconv.Itoa(cfg.MaxAge))
			}
			w.WriteHeader(http.StatusNoContent)
		})
	}
}
