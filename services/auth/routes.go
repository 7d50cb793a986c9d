package auth

import (
	"net/http"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/health"
)

// route is one ServeMux pattern and its handler.
type route struct {
	pattern string
	handler http.Handler
}

// routes lists every endpoint of the service in one place. It builds method values only, so
// Routes can call it on a zero Service.
func (s *Service) routes() []route {
	return []route{
		{"POST /auth/register", s.handle(s.register)},
		{"POST /auth/signin", s.handle(s.signin)},
		{"POST /auth/token", s.handle(s.token)},
		{"POST /auth/refresh", s.handle(s.refresh)},
		{"POST /auth/logout", s.handle(s.logout)},
		{"POST /auth/validate", s.handle(s.validate)},
		{"DELETE /auth/delete", s.handle(s.deleteAccount)},
		{"GET " + contract.PathJWKS, http.HandlerFunc(s.jwks)},

		{"GET " + contract.PathHealthz, health.Healthz()},
		{"GET " + contract.PathReadyz, http.HandlerFunc(s.readyz)},
		{"GET " + contract.PathMetrics, http.HandlerFunc(s.serveMetrics)},
	}
}

// Routes returns the ServeMux patterns the service registers, for the OpenAPI test.
func Routes() []string {
	routes := (&Service{}).routes()
	patterns := make([]string, 0, len(routes))
	for _, r := range routes {
		patterns = append(patterns, r.pattern)
	}
	return patterns
}
