package auth

import (
	"net/http"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/httpx"
)

// routes lists every endpoint of the public port in one place (the probes and metrics are on
// the management port: ManagementHandler). It builds method values and reads
// handler fields only (nil on a zero Service), so Routes can call it on a zero Service.
func (s *Service) routes() []httpx.Route {
	return []httpx.Route{
		httpx.On("POST /auth/register", s.handle(s.register)),
		httpx.On("POST /auth/signin", s.handle(s.signin)),
		httpx.On("POST /auth/token", s.handle(s.token)),
		httpx.On("POST /auth/refresh", s.handle(s.refresh)),
		httpx.On("POST /auth/logout", s.handle(s.logout)),
		httpx.On("POST /auth/validate", s.handle(s.validate)),
		httpx.On("DELETE /auth/delete", s.handle(s.deleteAccount)),
		httpx.On("GET "+contract.PathVerifyEmail, s.handle(s.verifyEmail)),
		httpx.On("GET "+contract.PathJWKS, http.HandlerFunc(s.jwks)),
	}
}

// Routes returns the ServeMux patterns the service registers, for the OpenAPI test.
func Routes() []string { return httpx.Patterns((&Service{}).routes()) }
