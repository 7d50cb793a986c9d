package chartcheck

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestServiceMonitor_ScrapesTheOperatorsMetricsService: the operator's ServiceMonitor, from
// the chart (metrics.serviceMonitor) and from config/prometheus as config/default includes
// it when its [PROMETHEUS] line is uncommented, selects the metrics Service of the same
// installation, in its namespace, on a port that Service has; both scrape the same way.
func TestServiceMonitor_ScrapesTheOperatorsMetricsService(t *testing.T) {
	fromChart, err := render(t, loadChart(t),
		"metrics: {serviceMonitor: {enabled: true, labels: {release: prom}, interval: 30s}}\n")
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	chartMonitor := checkMonitor(t, "the chart", fromChart)
	if got := chartMonitor.GetLabels()["release"]; got != "prom" {
		t.Errorf("the chart's ServiceMonitor lacks the label release: prom from the values: %v", chartMonitor.GetLabels())
	}
	eps, _, _ := unstructured.NestedSlice(chartMonitor.Object, "spec", "endpoints")
	if len(eps) != 1 || eps[0].(map[string]any)["interval"] != "30s" {
		t.Errorf("the chart's ServiceMonitor endpoints %v lack interval 30s", eps)
	}

	fromConfig := kustomizeBuild(t, "default")
	maps.Copy(fromConfig, kustomizeWithPrometheus(t))
	configMonitor := checkMonitor(t, "config/default with config/prometheus", fromConfig)

	// The same scrape, apart from the interval the chart's values add.
	chartEndpoints, _, _ := unstructured.NestedSlice(chartMonitor.Object, "spec", "endpoints")
	for _, ep := range chartEndpoints {
		delete(ep.(map[string]any), "interval")
	}
	configEndpoints, _, _ := unstructured.NestedSlice(configMonitor.Object, "spec", "endpoints")
	if !equality.Semantic.DeepEqual(chartEndpoints, configEndpoints) {
		t.Errorf("the chart scrapes %v, config/prometheus %v", chartEndpoints, configEndpoints)
	}

	plain, err := render(t, loadChart(t), "")
	if err != nil {
		t.Fatal(err)
	}
	for k, u := range plain {
		if u.GetKind() == "ServiceMonitor" {
			t.Errorf("the chart renders %s by default; it needs the Prometheus Operator's CRDs and must be asked for", k)
		}
	}
}

// checkMonitor finds the one ServiceMonitor in objs and checks that it selects the
// operator's metrics Service there by labels and port.
func checkMonitor(t *testing.T, where string, objs map[string]*unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	var monitor *unstructured.Unstructured
	var services []*unstructured.Unstructured
	for _, u := range objs {
		switch u.GetKind() {
		case "ServiceMonitor":
			if monitor != nil {
				t.Fatalf("%s has two ServiceMonitors", where)
			}
			monitor = u
		case "Service":
			services = append(services, u)
		}
	}
	if monitor == nil {
		t.Fatalf("%s has no ServiceMonitor", where)
	}
	selector, _, _ := unstructured.NestedStringMap(monitor.Object, "spec", "selector", "matchLabels")
	if len(selector) == 0 {
		t.Fatalf("%s: the ServiceMonitor selects no labels", where)
	}
	eps, _, _ := unstructured.NestedSlice(monitor.Object, "spec", "endpoints")
	matched := 0
	for _, svc := range services {
		if svc.GetNamespace() != monitor.GetNamespace() || !subset(selector, svc.GetLabels()) {
			continue
		}
		matched++
		ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
		for _, ep := range eps {
			name := ep.(map[string]any)["port"]
			found := false
			for _, p := range ports {
				found = found || p.(map[string]any)["name"] == name
			}
			if !found {
				t.Errorf("%s: the ServiceMonitor scrapes port %v, which Service %s does not have", where, name, svc.GetName())
			}
		}
	}
	if matched != 1 {
		t.Errorf("%s: the ServiceMonitor's selector %v matches %d Services in %s, want the metrics Service alone",
			where, selector, matched, monitor.GetNamespace())
	}
	return monitor
}

// kustomizeWithPrometheus builds config/prometheus with config/default's namespace and
// name prefix, as `- ../prometheus` in config/default would include it.
func kustomizeWithPrometheus(t *testing.T) map[string]*unstructured.Unstructured {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, filepath.Join(root, "config", "prometheus"))
	if err != nil {
		t.Fatal(err)
	}
	k := "namespace: littleecom-system\nnamePrefix: littleecom-\nresources:\n- " + rel + "\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, "bin", "kustomize"), "build", "--load-restrictor", "LoadRestrictionsNone", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize build of config/prometheus: %v\n%s", err, stderr.String())
	}
	return decode(t, out)
}
