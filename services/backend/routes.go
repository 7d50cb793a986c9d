package backend

import (
	"net/http"

	"littleecom.io/littleecom/internal/contract"
)

// route is one ServeMux pattern and its handler.
type route struct {
	pattern string
	handler http.Handler
}

// routes lists every endpoint of the service, in one place. It only builds closures and
// method values, touching no field, so Routes can call it on a zero Service.
func (s *Service) routes() []route {
	return []route{
		{"POST /item", s.authed(s.createItem)},
		{"GET /item/{id}", s.handle(s.getItem)},
		{"PUT /item/{id}", s.authed(s.updateItem)},
		{"DELETE /item/{id}", s.authed(s.deleteItem)},
		{"GET /items", s.handle(s.listItems)},
		{"GET /items/{owner}", s.handle(s.listItems)},
		{"POST /buy/{id}", s.authed(s.buy)},
		{"GET /orders", s.authed(s.listOrders)},

		{"GET " + contract.PathHealthz, http.HandlerFunc(s.healthz)},
		{"GET " + contract.PathReadyz, http.HandlerFunc(s.readyz)},
		{"GET " + contract.PathMetrics, http.HandlerFunc(s.serveMetrics)},
		{"GET " + contract.PathOpenAPI, http.HandlerFunc(s.openapi)},
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
