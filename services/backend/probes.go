package backend

import (
	"net/http"

	"littleecom.io/littleecom/services/internal/health"
	"littleecom.io/littleecom/services/internal/openapi"
)

func (s *Service) healthz(w http.ResponseWriter, r *http.Request) {
	health.Healthz().ServeHTTP(w, r)
}

func (s *Service) readyz(w http.ResponseWriter, r *http.Request) { s.ready.ServeHTTP(w, r) }

func (s *Service) serveMetrics(w http.ResponseWriter, r *http.Request) { s.prom.ServeHTTP(w, r) }

func (s *Service) openapi(w http.ResponseWriter, r *http.Request) {
	openapi.Handler().ServeHTTP(w, r)
}
