package metrics_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
	"littleecom.io/littleecom/services/internal/metrics"
)

// dashboardPath is the Grafana dashboard the README tells people to import.
var dashboardPath = filepath.Join("..", "..", "..", "config", "grafana", "littleecom-dashboard.json")

// rabbitMQPrometheus is where hack/rabbitmq.sh's broker serves rabbitmq_prometheus (the
// port the operator's brokers use, resource.RabbitMQPrometheusPort, bound to loopback).
var rabbitMQPrometheus = fmt.Sprintf("http://127.0.0.1:%d", resource.RabbitMQPrometheusPort)

// TestDashboard_QueriesOnlyExportedMetrics: every metric name in the dashboard's PromQL
// (panels and template variables) is exported, so the dashboard cannot drift from the
// code. littleecom_ names must be in the services' registries, rabbitmq_ names in what a
// real RabbitMQ's rabbitmq_prometheus serves on the endpoints the operator's
// ServiceMonitor scrapes.
func TestDashboard_QueriesOnlyExportedMetrics(t *testing.T) {
	used := dashboardMetrics(t)
	var shop, rabbit []string
	for _, name := range used {
		switch {
		case strings.HasPrefix(name, "littleecom_"):
			shop = append(shop, name)
		case strings.HasPrefix(name, "rabbitmq_"):
			rabbit = append(rabbit, name)
		default:
			t.Errorf("the dashboard queries %s, which neither the services nor RabbitMQ export", name)
		}
	}
	if len(shop) == 0 || len(rabbit) == 0 {
		t.Fatalf("found %d littleecom_ and %d rabbitmq_ metrics in the dashboard; the parser missed them", len(shop), len(rabbit))
	}

	for _, service := range []string{"backend", "auth", "notifier"} {
		exported := serviceMetricNames(t, service)
		for _, name := range shop {
			if !exported[name] {
				t.Errorf("the dashboard queries %s, which %s's registry does not export", name, service)
			}
		}
	}

	exported, err := rabbitMQMetricNames(t)
	if err != nil {
		t.Skipf("RabbitMQ's metrics are not available at %s (%v): run hack/rabbitmq.sh start, which enables "+
			"rabbitmq_prometheus on 127.0.0.1:%d; the dashboard's rabbitmq_ names are unchecked: %v",
			rabbitMQPrometheus, err, resource.RabbitMQPrometheusPort, rabbit)
	}
	for _, name := range rabbit {
		if !exported[name] {
			t.Errorf("the dashboard queries %s, which rabbitmq_prometheus does not serve on the ServiceMonitor's endpoints", name)
		}
	}
}

// dashboardMetrics parses the dashboard and returns the metric names its queries use.
func dashboardMetrics(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s is not valid JSON: %v", dashboardPath, err)
	}
	var exprs []string
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			if target.Expr == "" {
				t.Errorf("panel %q has a target without an expression", p.Title)
			}
			exprs = append(exprs, target.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(string)
		if m, ok := v.Query.(map[string]any); ok {
			q, _ = m["query"].(string)
		}
		// label_values(<selector>, <label>): the selector is PromQL; the label is not a metric.
		if inner, ok := strings.CutPrefix(q, "label_values("); ok {
			if i := strings.LastIndex(inner, ","); i >= 0 {
				q = inner[:i]
			}
		}
		if q == "" {
			t.Errorf("template variable %s has no query", v.Name)
		}
		exprs = append(exprs, q)
	}
	var names []string
	for _, e := range exprs {
		names = append(names, metricNames(e)...)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

var (
	promString     = regexp.MustCompile(`"(\\.|[^"\\])*"|'(\\.|[^'\\])*'|` + "`[^`]*`")
	promMatchers   = regexp.MustCompile(`\{[^{}]*\}`)
	promRange      = regexp.MustCompile(`\[[^\]]*\]`)
	promNumber     = regexp.MustCompile(`(^|[^A-Za-z0-9_:])[0-9][0-9.]*([eE][+-]?[0-9]+)?[a-z]*`)
	promGrouping   = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promIdentifier = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?`)
	// promKeywords are PromQL's words that are neither metrics nor followed by "(".
	promKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "inf": true, "nan": true}
)

// metricNames returns the metric names of a PromQL expression: what is left once string
// literals, label matchers, ranges and groupings are removed, apart from functions and
// aggregations (followed by "("), keywords, numbers and durations. PromQL's own parser lives in
// github.com/prometheus/prometheus, a module far too large for this one check.
func metricNames(expr string) []string {
	e := promString.ReplaceAllString(expr, `""`)
	e = promMatchers.ReplaceAllString(e, " ")
	e = promRange.ReplaceAllString(e, " ")
	e = promNumber.ReplaceAllString(e, "$1 ")
	e = promGrouping.ReplaceAllString(e, " ")
	var out []string
	for _, m := range promIdentifier.FindAllString(e, -1) {
		if strings.HasSuffix(m, "(") || promKeywords[strings.ToLower(m)] {
			continue
		}
		out = append(out, m)
	}
	return out
}

// serviceMetricNames are the names a service's registry exports: its families as a scrape
// shows them (a histogram as _bucket, _sum and _count). The label vectors export nothing
// until used, so each is used once first, the HTTP series through the real middleware.
func serviceMetricNames(t *testing.T, service string) map[string]bool {
	t.Helper()
	m := metrics.New(service)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /item/{id}", func(w http.ResponseWriter, _ *http.Request) {})
	m.HTTPMiddleware(nil)(mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/item/1", nil))
	for _, v := range []*prometheus.CounterVec{m.EventsPublished, m.EventsConsumed, m.EventsFailed} {
		v.WithLabelValues("ecom.item.add").Inc()
	}
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		addFamily(names, f.GetName(), strings.ToLower(f.GetType().String()))
	}
	return names
}

// addFamily adds the series names a family of typ shows in a scrape.
func addFamily(names map[string]bool, name, typ string) {
	switch typ {
	case strings.ToLower(dto.MetricType_HISTOGRAM.String()), "gaugehistogram":
		names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
	case strings.ToLower(dto.MetricType_SUMMARY.String()):
		names[name], names[name+"_sum"], names[name+"_count"] = true, true, true
	default:
		names[name] = true
	}
}

// rabbitMQMetricNames reads the families the local broker serves on every endpoint the
// operator's RabbitMQ ServiceMonitor scrapes (path and params from the builder itself).
func rabbitMQMetricNames(t *testing.T) (map[string]bool, error) {
	t.Helper()
	names := map[string]bool{}
	for _, ep := range rabbitMQMonitorEndpoints(t) {
		u := rabbitMQPrometheus + ep.path + "?" + ep.params.Encode()
		if err := scrapeTypes(u, names); err != nil {
			return nil, err
		}
	}
	return names, nil
}

type scrapeEndpoint struct {
	path   string
	params url.Values
}

// rabbitMQMonitorEndpoints builds the shop's RabbitMQ ServiceMonitor and returns its endpoints.
func rabbitMQMonitorEndpoints(t *testing.T) []scrapeEndpoint {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := shopv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	shop := resource.NewShop(&shopv1.LittleEcom{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "ns", UID: "uid"},
		Spec:       shopv1.LittleEcomSpec{Monitoring: &shopv1.MonitoringSpec{}},
	}, scheme)
	var out []scrapeEndpoint
	for _, b := range shop.Monitors() {
		obj := b.Build()
		if err := b.Update(obj); err != nil {
			t.Fatal(err)
		}
		u := obj.(*unstructured.Unstructured)
		if u.GetLabels()[resource.LabelComponent] != resource.ComponentRabbitMQ {
			continue
		}
		eps, _, _ := unstructured.NestedSlice(u.Object, "spec", "endpoints")
		for _, e := range eps {
			ep := e.(map[string]any)
			se := scrapeEndpoint{path: ep["path"].(string), params: url.Values{}}
			params, _ := ep["params"].(map[string]any)
			for k, vs := range params {
				for _, v := range vs.([]any) {
					se.params.Add(k, v.(string))
				}
			}
			out = append(out, se)
		}
	}
	if len(out) == 0 {
		t.Fatal("the shop has no RabbitMQ ServiceMonitor endpoints")
	}
	return out
}

// scrapeTypes adds the families one scrape declares (its "# TYPE" lines: a family is
// declared even while it has no series, e.g. queue metrics before any queue exists).
func scrapeTypes(u string, names map[string]bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, body)
	}
	found := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 4 && fields[0] == "#" && fields[1] == "TYPE" {
			addFamily(names, fields[2], fields[3])
			found++
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", u, err)
	}
	if found == 0 {
		return fmt.Errorf("GET %s declared no metric families", u)
	}
	return nil
}

func TestMetricNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`sum by (service, route) (rate(littleecom_http_requests_total{namespace="$ns", status=~"5.."}[$__rate_interval]))`,
			[]string{"littleecom_http_requests_total"}},
		{`histogram_quantile(0.99, sum by (le) (rate(a_bucket{x="rate(b)"}[5m]))) / on (x) group_left (y) c`, []string{"a_bucket", "c"}},
		{`sum(x) * 60 and bool y offset 5m`, []string{"x", "y"}},
	}
	for _, tc := range tests {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%s) = %v, want %v", tc.expr, got, tc.want)
		}
	}
}
