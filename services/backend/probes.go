package backend

import "net/http"

func (s *Service) readyz(w http.ResponseWriter, r *http.Request) { s.ready.ServeHTTP(w, r) }

func (s *Service) serveMetrics(w http.ResponseWriter, r *http.Request) {
	s.metrics.Handler().ServeHTTP(w, r)
}
