package health

import (
	"net/http"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/problem"
)

// Management is the whole handler of a service's management port: PathHealthz, PathReadyz
// on ready and PathMetrics on metrics. Anything else is a problem+json 404. The public port
// serves none of these: no Ingress, HTTPRoute or dev gateway route reaches this handler.
func Management(ready, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+contract.PathHealthz, Healthz())
	mux.Handle("GET "+contract.PathReadyz, ready)
	mux.Handle("GET "+contract.PathMetrics, metrics)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			problem.Write(w, r, problem.NotFoundf("no management endpoint %s %s", r.Method, r.URL.Path))
			return
		}
		mux.ServeHTTP(w, r)
	})
}
