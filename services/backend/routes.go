package backend

import (
	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/openapi"
)

// routes lists every endpoint of the public port, in one place (the probes and metrics are
// on the management port: ManagementHandler). It only builds closures and
// method values, touching no field, so Routes can call it on a zero Service.
func (s *Service) routes() []httpx.Route {
	return []httpx.Route{
		httpx.On("POST /item", s.authed(s.createItem)),
		httpx.On("GET /item/{id}", s.handle(s.getItem)),
		httpx.On("PUT /item/{id}", s.authed(s.updateItem)),
		httpx.On("DELETE /item/{id}", s.authed(s.deleteItem)),
		httpx.On("GET /items", s.handle(s.listItems)),
		httpx.On("GET /items/{owner}", s.handle(s.listItems)),
		httpx.On("POST /buy/{id}", s.authed(s.buy)),
		httpx.On("GET /orders", s.authed(s.listOrders)),

		httpx.On("GET "+contract.PathOpenAPI, openapi.Handler()),
	}
}

// Routes returns the ServeMux patterns the service registers, for the OpenAPI test.
func Routes() []string { return httpx.Patterns((&Service{}).routes()) }
