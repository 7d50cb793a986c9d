package httpx

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// CORSConfig configures the services' own CORS answer. It is for direct access without an
// edge: when the Ingress or gateway answers CORS, the operator sets Enabled to false so that
// exactly one place emits Access-Control-* headers (duplicates make browsers refuse).
type CORSConfig struct {
	Enabled          bool     `env:"CORS_ENABLED"`
	AllowOrigins     []string `env:"CORS_ALLOW_ORIGINS"` // exact origins, or "*" for any
	AllowMethods     []string `env:"CORS_ALLOW_METHODS"`
	AllowHeaders     []string `env:"CORS_ALLOW_HEADERS"`
	AllowCredentials bool     `env:"CORS_ALLOW_CREDENTIALS"`
	MaxAge           int      `env:"CORS_MAX_AGE"` // seconds a preflight may be cached; 0 leaves it to the browser
}

// DefaultCORS is what the original shop allowed: any origin, no credentials.
func DefaultCORS() CORSConfig {
	return CORSConfig{
		Enabled:      true,
		AllowOrigins: []string{"*"},
		AllowMethods: []string{"GET", "POST", "PUT", "DELETE", "OPTIONS"},
		AllowHeaders: []string{"Authorization", "Content-Type", HeaderRequestID},
		MaxAge:       600,
	}
}

// CORS answers preflight requests itself and adds Access-Control-Allow-Origin to actual
// requests from allowed origins. With AllowCredentials it echoes the request's origin, never
// "*", because browsers refuse credentials with a wildcard. It sets headers with Set, never
// Add, so a handler or outer layer cannot cause a duplicate through it.
func CORS(cfg CORSConfig) func(http.Handler) http.Handler {
	if !cfg.Enabled {
		return func(next http.Handler) http.Handler { return next }
	}
	anyOrigin := slices.Contains(cfg.AllowOrigins, "*")
	methods := strings.Join(cfg.AllowMethods, ", ")
	headers := strings.Join(cfg.AllowHeaders, ", ")
	allowed := func(origin string) bool {
		return anyOrigin || slices.Contains(cfg.AllowOrigins, origin)
	}
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
			if !allowed(origin) {
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
				h.Set("Access-Control-Expose-Headers", HeaderRequestID+", Retry-After")
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
