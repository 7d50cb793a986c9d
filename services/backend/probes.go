package backend

import (
	"net/http"

	"littleecom.io/littleecom/services/internal/health"
	"littleecom.io/littleecom/services/internal/problem"
)

func (s *Service) healthz(w http.ResponseWriter, r *http.Request) {
	health.Healthz().ServeHTTP(w, r)
}

func (s *Service) readyz(w http.ResponseWriter, r *http.Request) { s.ready.ServeHTTP(w, r) }

func (s *Service) serveMetrics(w http.ResponseWriter, r *http.Request) { s.prom.ServeHTTP(w, r) }

func (s *Service) openapi(w http.ResponseWriter, r *http.Request) {
	// TODO(backend): serve services/internal/openapi's document once it lands.
	problem.Write(w, r, problem.NotFoundf("openapi document not built yet"))
}
