// Package metrics gives each service its own Prometheus registry with the series every shop
// service exposes: HTTP requests by route/method/status with latency, events published,
// consumed and failed, and e-mails sent and failed. config/grafana's dashboard queries
// them; its test (dashboard_test.go) fails on a series it names that is not here. A registry per service (not the global default)
// keeps tests that start several services in one process from colliding.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"littleecom.io/littleecom/internal/version"
	"littleecom.io/littleecom/services/internal/httpx"
)

// Metrics is one service's registry and its collectors.
type Metrics struct {
	Registry *prometheus.Registry

	HTTPRequests *prometheus.CounterVec   // labels: route, method, status
	HTTPDuration *prometheus.HistogramVec // labels: route, method

	EventsPublished *prometheus.CounterVec // labels: event
	EventsConsumed  *prometheus.CounterVec // labels: event
	EventsFailed    *prometheus.CounterVec // labels: event
	EmailsSent      prometheus.Counter
	EmailsFailed    prometheus.Counter

	handler     http.Handler
	constLabels prometheus.Labels
}

// namespace prefixes every series the shop exports.
const namespace = "littleecom"

// labelEvent is the label of the event series: the event's routing key.
const labelEvent = "event"

// New registers the shop's series, namespaced "littleecom" and labelled service=<service>,
// plus the Go runtime and process collectors.
func New(service string) *Metrics {
	reg := prometheus.NewRegistry()
	constLabels := prometheus.Labels{"service": service}
	m := &Metrics{
		Registry: reg, constLabels: constLabels,
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "http_requests_total", ConstLabels: constLabels,
			Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "http_request_duration_seconds", ConstLabels: constLabels,
			Help:    "HTTP request latency by route pattern and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		EventsPublished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "events_published_total", ConstLabels: constLabels,
			Help: "Events confirmed by the broker, by event (routing key).",
		}, []string{labelEvent}),
		EventsConsumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "events_consumed_total", ConstLabels: constLabels,
			Help: "Events handled and acknowledged, by event.",
		}, []string{labelEvent}),
		EventsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "events_failed_total", ConstLabels: constLabels,
			Help: "Event publish or handling failures, by event.",
		}, []string{labelEvent}),
		EmailsSent: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "emails_sent_total", ConstLabels: constLabels,
			Help: "E-mails accepted by the SMTP server.",
		}),
		EmailsFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "emails_failed_total", ConstLabels: constLabels,
			Help: "Attempts to send an e-mail that the SMTP server refused or that failed on the way (a retry may still succeed).",
		}),
	}
	reg.MustRegister(m.HTTPRequests, m.HTTPDuration, m.EventsPublished, m.EventsConsumed,
		m.EventsFailed, m.EmailsSent, m.EmailsFailed,
		version.NewCollector(service), // littleecom_build_info{program=<service>, version, ...}
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Built once: promhttp registers its own error counter in the registry it serves.
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m
}

// CounterFunc registers a counter that reads its value from fn at each scrape, named and
// labelled like the shop's other series (littleecom_<name>, service=<service>).
func (m *Metrics) CounterFunc(name, help string, fn func() float64) {
	m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: namespace, Name: name, ConstLabels: m.constLabels, Help: help,
	}, fn))
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Pattern is the usual routePattern: the ServeMux pattern the request matched (r.Pattern,
// Go 1.22+), so that ids in paths do not explode the label's cardinality. Unmatched requests
// get "unmatched".
func Pattern(r *http.Request) string {
	if r.Pattern == "" {
		return "unmatched"
	}
	return r.Pattern
}

// HTTPMiddleware counts requests and observes latency. routePattern is called after the
// handler ran, when the mux has set r.Pattern; nil means Pattern. Place it inside any
// middleware that replaces the request (RequestID, Logger), directly around the mux.
func (m *Metrics) HTTPMiddleware(routePattern func(*http.Request) string) func(http.Handler) http.Handler {
	if routePattern == nil {
		routePattern = Pattern
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			w, sw := httpx.RecordStatus(w)
			next.ServeHTTP(w, r)
			route := routePattern(r)
			m.HTTPRequests.WithLabelValues(route, r.Method, strconv.Itoa(sw.Status())).Inc()
			m.HTTPDuration.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
		})
	}
}
