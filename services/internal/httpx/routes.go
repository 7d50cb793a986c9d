package httpx

import (
	"log/slog"
	"net/http"

	"go.opentelemetry.io/otel/trace"

	"littleecom.io/littleecom/internal/cors"
	"littleecom.io/littleecom/services/internal/problem"
	"littleecom.io/littleecom/services/internal/tracing"
)

// Route is one ServeMux pattern ("POST /item") and its handler. Each service lists its
// routes in one routes.go as a []Route.
type Route struct {
	Pattern string
	Handler http.Handler
}

// On is the Route for pattern.
func On(pattern string, h http.Handler) Route { return Route{Pattern: pattern, Handler: h} }

// Patterns returns the patterns of routes, for the test that compares them with the
// OpenAPI document.
func Patterns(routes []Route) []string {
	out := make([]string, 0, len(routes))
	for _, r := range routes {
		out = append(out, r.Pattern)
	}
	return out
}

// Stack is a service's whole HTTP handler: routes on a ServeMux (unknown paths and methods
// answered as problem+json) behind the middleware every service shares, outermost first:
// request id, the request's log line, panic recovery (inside the logger, so a recovered panic
// is logged with its request id as a 500), CORS (a no-op when the edge answers it) and
// route metrics. Around them all, each request has a server span of tp (nil: the
// process-wide provider), continuing the caller's trace and named after its route, so that
// the request's log line carries its trace id.
func Stack(routes []Route, log *slog.Logger, policy cors.Policy, metrics func(http.Handler) http.Handler, tp trace.TracerProvider) http.Handler {
	mux := http.NewServeMux()
	for _, r := range routes {
		mux.Handle(r.Pattern, tracing.Route(r.Pattern, r.Handler))
	}
	return tracing.HTTPHandler(Chain(ProblemNotFound(mux), RequestID, Logger(log), Recover, CORS(policy), metrics), tp)
}

// Errors adapts a handler that returns an error to http.Handler: a returned error is written
// as a problem+json body with the status its problem code maps to.
func Errors(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			problem.Write(w, r, err)
		}
	})
}
