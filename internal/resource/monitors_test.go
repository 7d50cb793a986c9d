package resource

import (
	"maps"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	shopv1 "littleecom.io/littleecom/api/v1"
)

func monitoredShop(t *testing.T) *Shop {
	return newTestShop(t, func(spec *shopv1.LittleEcomSpec) {
		spec.Monitoring = &shopv1.MonitoringSpec{Labels: map[string]shopv1.LabelValue{"release": "prom"}, Interval: "15s"}
		spec.NetworkPolicy.MetricsNamespace = "monitoring"
	})
}

// builtMonitors are the shop's monitors by component, each updated once.
func builtMonitors(t *testing.T, s *Shop) map[string]*unstructured.Unstructured {
	t.Helper()
	out := map[string]*unstructured.Unstructured{}
	for _, b := range s.Monitors() {
		u := buildOnce(t, b).(*unstructured.Unstructured)
		out[u.GetLabels()[LabelComponent]] = u
	}
	return out
}

func TestMonitors_KindsNamesLabelsAndOwner(t *testing.T) {
	s := monitoredShop(t)
	wantKinds := map[string]string{
		ComponentRabbitMQ: "ServiceMonitor", ComponentNotifier: "ServiceMonitor",
		ComponentBackend: "PodMonitor", ComponentAuth: "PodMonitor",
	}
	monitors := builtMonitors(t, s)
	if got := slices.Sorted(maps.Keys(monitors)); !slices.Equal(got, slices.Sorted(maps.Keys(wantKinds))) {
		t.Fatalf("monitors for %v, want %v", got, slices.Sorted(maps.Keys(wantKinds)))
	}
	for component, u := range monitors {
		if u.GetKind() != wantKinds[component] || u.GetAPIVersion() != "monitoring.coreos.com/v1" {
			t.Errorf("%s: %s, want monitoring.coreos.com/v1 %s", component, u.GroupVersionKind(), wantKinds[component])
		}
		if u.GetName() != "shop-"+component || u.GetNamespace() != "ns" {
			t.Errorf("%s: named %s/%s", component, u.GetNamespace(), u.GetName())
		}
		want := Labels("shop", component)
		want["release"] = "prom"
		if !maps.Equal(u.GetLabels(), want) {
			t.Errorf("%s: labels %v, want %v", component, u.GetLabels(), want)
		}
		refs := u.GetOwnerReferences()
		if len(refs) != 1 || refs[0].Kind != "LittleEcom" || refs[0].UID != "uid-1" || refs[0].Controller == nil || !*refs[0].Controller {
			t.Errorf("%s: owner references %+v", component, refs)
		}
		for _, ep := range endpointsOf(t, u) {
			if ep["interval"] != "15s" {
				t.Errorf("%s: endpoint interval %v, want 15s", component, ep["interval"])
			}
		}
	}
}

func TestMonitors_UpdateIsIdempotent(t *testing.T) {
	for _, b := range monitoredShop(t).Monitors() {
		assertUpdateIsIdempotent(t, b)
	}
}

func TestMonitors_KeepFieldsTheyDoNotOwn(t *testing.T) {
	b := monitoredShop(t).Monitors()[0]
	u := buildOnce(t, b).(*unstructured.Unstructured)
	eps, _, _ := unstructured.NestedSlice(u.Object, "spec", "endpoints")
	eps[0].(map[string]any)["scrapeTimeout"] = "10s" // as a defaulting CRD or a mutating webhook might add
	_ = unstructured.SetNestedSlice(u.Object, eps, "spec", "endpoints")
	if err := b.Update(u); err != nil {
		t.Fatal(err)
	}
	if got := endpointsOf(t, u)[0]["scrapeTimeout"]; got != "10s" {
		t.Errorf("Update dropped a field it does not own: scrapeTimeout = %v", got)
	}
}

func TestMonitors_OptionalOnSpecMonitoring(t *testing.T) {
	for _, b := range newTestShop(t, nil).Monitors() {
		if b.(Optional).Enabled() {
			t.Errorf("%T enabled without spec.monitoring", b)
		}
	}
	for _, b := range monitoredShop(t).Monitors() {
		if !b.(Optional).Enabled() {
			t.Errorf("%T disabled with spec.monitoring", b)
		}
	}
}

// TestMonitors_ScrapeWhatTheWorkloadsServe resolves every endpoint of every monitor the way
// the Prometheus Operator does: a ServiceMonitor's port names a port of the Services its
// selector matches, a PodMonitor's a container port of the pods. The port must exist, and
// the component's NetworkPolicy must admit spec.networkPolicy.metricsNamespace to it.
func TestMonitors_ScrapeWhatTheWorkloadsServe(t *testing.T) {
	s := monitoredShop(t)
	services := []*corev1.Service{
		buildOnce(t, s.RabbitMQService()).(*corev1.Service),
		buildOnce(t, s.RabbitMQHeadlessService()).(*corev1.Service),
	}
	templates := map[string]corev1.PodTemplateSpec{
		ComponentRabbitMQ: buildOnce(t, s.RabbitMQStatefulSet()).(*appsv1.StatefulSet).Spec.Template,
	}
	policies := map[string]*networkingv1.NetworkPolicy{
		ComponentRabbitMQ: buildOnce(t, s.RabbitMQNetworkPolicy()).(*networkingv1.NetworkPolicy),
	}
	for _, c := range ServiceComponents {
		services = append(services, buildOnce(t, s.ServiceService(c)).(*corev1.Service))
		templates[c] = buildOnce(t, s.ServiceDeployment(c)).(*appsv1.Deployment).Spec.Template
		policies[c] = buildOnce(t, s.ServiceNetworkPolicy(c)).(*networkingv1.NetworkPolicy)
	}
	for component, u := range builtMonitors(t, s) {
		matchLabels, _, _ := unstructured.NestedStringMap(u.Object, "spec", "selector", "matchLabels")
		selector := labels.SelectorFromSet(matchLabels)
		for _, ep := range endpointsOf(t, u) {
			portName, _ := ep["port"].(string)
			containerPort := func(name string) []int32 {
				var out []int32
				for _, c := range templates[component].Spec.Containers {
					for _, p := range c.Ports {
						if p.Name == name {
							out = append(out, p.ContainerPort)
						}
					}
				}
				return out
			}
			var ports []int32
			if u.GetKind() == "ServiceMonitor" {
				// The Service's targetPort (a name) resolves to the pods' container port.
				for _, svc := range services {
					if !selector.Matches(labels.Set(svc.Labels)) {
						continue
					}
					for _, p := range svc.Spec.Ports {
						if p.Name == portName {
							ports = append(ports, containerPort(p.TargetPort.String())...)
						}
					}
				}
			} else {
				ports = containerPort(portName)
			}
			if tmpl := templates[component]; !selector.Matches(labels.Set(tmpl.Labels)) {
				t.Errorf("%s: the selector %v does not match the pods %v", component, matchLabels, tmpl.Labels)
			}
			if len(ports) == 0 {
				t.Errorf("%s %s: no port named %q to scrape", u.GetKind(), u.GetName(), portName)
			}
			for _, port := range ports {
				if !admits(policies[component], "monitoring", port) {
					t.Errorf("%s: NetworkPolicy %s does not admit namespace monitoring to port %d", component, policies[component].Name, port)
				}
			}
		}
	}
}

// admits says whether np lets pods of namespace ns reach port.
func admits(np *networkingv1.NetworkPolicy, ns string, port int32) bool {
	for _, rule := range np.Spec.Ingress {
		portOK := len(rule.Ports) == 0
		for _, p := range rule.Ports {
			portOK = portOK || p.Port.IntVal == port
		}
		for _, from := range rule.From {
			if portOK && from.NamespaceSelector != nil && from.NamespaceSelector.MatchLabels[namespaceNameLabel] == ns &&
				(from.PodSelector == nil || len(from.PodSelector.MatchLabels) == 0) {
				return true
			}
		}
	}
	return false
}

func endpointsOf(t *testing.T, u *unstructured.Unstructured) []map[string]any {
	t.Helper()
	key := "endpoints"
	if u.GetKind() == "PodMonitor" {
		key = "podMetricsEndpoints"
	}
	eps, found, err := unstructured.NestedSlice(u.Object, "spec", key)
	if err != nil || !found || len(eps) == 0 {
		t.Fatalf("%s %s has no spec.%s (%v)", u.GetKind(), u.GetName(), key, err)
	}
	out := make([]map[string]any, len(eps))
	for i, ep := range eps {
		out[i] = ep.(map[string]any)
	}
	return out
}
