package chartcheck

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// installations pairs each kustomize overlay with the chart values that install the same.
var installations = []struct {
	name, overlay, values string
}{
	{"cluster-wide", "default", ""},
	{"namespace-scoped", "namespaced", "watchNamespaces: [shop]\nmetrics: {enabled: false}\nrbac: {userRoles: false}\n"},
	{"cluster-wide Fluentd metadata", "logging-cluster-metadata", "logging: {clusterMetadata: true}\n"},
}

// TestChart_MatchesKustomize: the chart and config/ install the same objects, apart from
// what legitimately differs (see normalise), so that neither can drift from the other.
func TestChart_MatchesKustomize(t *testing.T) {
	c := loadChart(t)
	for _, inst := range installations {
		t.Run(inst.name, func(t *testing.T) {
			fromChart, err := render(t, c, inst.values)
			if err != nil {
				t.Fatalf("rendering the chart: %v", err)
			}
			fromKustomize := kustomizeBuild(t, inst.overlay)
			// Helm installs into a namespace that exists (--create-namespace) and never
			// owns it: removing the release must not delete the operator's namespace.
			for k, u := range fromKustomize {
				if u.GetKind() == "Namespace" {
					delete(fromKustomize, k)
				}
			}
			for _, k := range keys(fromKustomize) {
				if _, ok := fromChart[k]; !ok {
					t.Errorf("config/%s has %s, the chart does not", inst.overlay, k)
				}
			}
			for _, k := range keys(fromChart) {
				want, ok := fromKustomize[k]
				if !ok {
					t.Errorf("the chart has %s, config/%s does not", k, inst.overlay)
					continue
				}
				got, exp := toYAML(t, normalise(fromChart[k])), toYAML(t, normalise(want))
				if got != exp {
					t.Errorf("%s differs between the chart (+) and config/%s (-):\n%s", k, inst.overlay, lineDiff(exp, got))
				}
			}
			checkWiring(t, fromChart)
			checkImage(t, fromChart, "littleecom/manager:"+c.Metadata.AppVersion)
		})
	}
}

// normalise drops what differs by design: labels (Helm's standard set and the release's
// instance, against kustomize's managed-by), hence selectors (checkWiring checks that they
// select the operator's pods), the image (install.yaml's is set at release time; checkImage
// checks the chart's), the pull policy (IfNotPresent, the API server's default for a
// tagged image) and the order of the manager's arguments.
func normalise(in *unstructured.Unstructured) map[string]any {
	u := in.DeepCopy()
	unstructured.RemoveNestedField(u.Object, "metadata", "labels")
	switch u.GetKind() {
	case "Deployment":
		unstructured.RemoveNestedField(u.Object, "spec", "selector")
		unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "labels")
		containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		for i := range containers {
			c := containers[i].(map[string]any)
			c["image"] = "<image>"
			delete(c, "imagePullPolicy")
			if args, ok := c["args"].([]any); ok {
				slices.SortFunc(args, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
			}
		}
		_ = unstructured.SetNestedSlice(u.Object, containers, "spec", "template", "spec", "containers")
	case "Service":
		unstructured.RemoveNestedField(u.Object, "spec", "selector")
	}
	return u.Object
}

// checkWiring: the Deployment's selector and the Services' select the operator's pods, its
// ServiceAccount exists, and every binding binds a role and a ServiceAccount the chart makes.
func checkWiring(t *testing.T, objs map[string]*unstructured.Unstructured) {
	t.Helper()
	dep := objs["Deployment/"+releaseNamespace+"/littleecom-controller-manager"]
	if dep == nil {
		t.Fatal("the chart renders no operator Deployment")
	}
	podLabels, _, _ := unstructured.NestedStringMap(dep.Object, "spec", "template", "metadata", "labels")
	selector, _, _ := unstructured.NestedStringMap(dep.Object, "spec", "selector", "matchLabels")
	if len(selector) == 0 || !subset(selector, podLabels) {
		t.Errorf("the Deployment's selector %v does not select its pods %v", selector, podLabels)
	}
	sa, _, _ := unstructured.NestedString(dep.Object, "spec", "template", "spec", "serviceAccountName")
	if objs["ServiceAccount/"+releaseNamespace+"/"+sa] == nil {
		t.Errorf("the Deployment runs as ServiceAccount %q, which the chart does not make", sa)
	}
	for k, u := range objs {
		switch u.GetKind() {
		case "Service":
			sel, _, _ := unstructured.NestedStringMap(u.Object, "spec", "selector")
			if len(sel) == 0 || !subset(sel, podLabels) {
				t.Errorf("%s selects %v, not the operator's pods %v", k, sel, podLabels)
			}
		case "RoleBinding", "ClusterRoleBinding":
			kind, _, _ := unstructured.NestedString(u.Object, "roleRef", "kind")
			name, _, _ := unstructured.NestedString(u.Object, "roleRef", "name")
			ns := u.GetNamespace()
			if kind == "ClusterRole" {
				ns = ""
			}
			if objs[kind+"/"+ns+"/"+name] == nil {
				t.Errorf("%s binds %s %q, which the chart does not make", k, kind, name)
			}
			subjects, _, _ := unstructured.NestedSlice(u.Object, "subjects")
			for _, s := range subjects {
				s := s.(map[string]any)
				if objs["ServiceAccount/"+s["namespace"].(string)+"/"+s["name"].(string)] == nil {
					t.Errorf("%s binds %v, which the chart does not make", k, s)
				}
			}
		}
	}
}

func checkImage(t *testing.T, objs map[string]*unstructured.Unstructured, want string) {
	t.Helper()
	dep := objs["Deployment/"+releaseNamespace+"/littleecom-controller-manager"]
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	if len(containers) != 1 {
		t.Fatalf("the operator's pod has %d containers, want 1", len(containers))
	}
	if got := containers[0].(map[string]any)["image"]; got != want {
		t.Errorf("the operator's image is %v, want %s (the chart's appVersion)", got, want)
	}
}

func subset(small, big map[string]string) bool {
	for k, v := range small {
		if big[k] != v {
			return false
		}
	}
	return true
}

// lineDiff lists the lines only in a (-) or only in b (+), in order; enough to see which
// field drifted.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out strings.Builder
	for _, l := range al {
		if !slices.Contains(bl, l) {
			out.WriteString("- " + l + "\n")
		}
	}
	for _, l := range bl {
		if !slices.Contains(al, l) {
			out.WriteString("+ " + l + "\n")
		}
	}
	return out.String()
}

// TestChart_CopiesAreCurrent: the CRD and the operator's rules in the chart are what
// controller-gen last wrote into config/ (hack/release/sync-chart.sh copies them).
func TestChart_CopiesAreCurrent(t *testing.T) {
	root := repoRoot(t)
	generated, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(generated) == 0 {
		t.Fatalf("no CRDs in config/crd/bases: %v", err)
	}
	pairs := map[string]string{filepath.Join(root, "config", "rbac", "role.yaml"): filepath.Join(chartDir(t), "files", "manager-role.yaml")}
	for _, g := range generated {
		pairs[g] = filepath.Join(chartDir(t), "crds", filepath.Base(g))
	}
	copies, _ := filepath.Glob(filepath.Join(chartDir(t), "crds", "*"))
	if len(copies) != len(generated) {
		t.Errorf("charts/littleecom/crds has %d files, config/crd/bases %d: run hack/release/sync-chart.sh", len(copies), len(generated))
	}
	for src, dst := range pairs {
		a, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(dst)
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s is not a copy of %s: run hack/release/sync-chart.sh (make manifests does)", dst, src)
		}
	}
}

// TestChart_Lint is `helm lint --strict` through Helm's lint package, for each installation.
func TestChart_Lint(t *testing.T) {
	for _, inst := range installations {
		t.Run(inst.name, func(t *testing.T) {
			vals, err := common.ReadValues([]byte(inst.values))
			if err != nil {
				t.Fatal(err)
			}
			res := lint.RunAll(chartDir(t), vals, releaseNamespace, lint.WithKubeVersion(&capabilities(t).KubeVersion))
			for _, m := range res.Messages {
				if m.Severity >= support.WarningSev {
					t.Error(m.Error())
				} else {
					t.Log(m.Error())
				}
			}
		})
	}
}

// TestChart_WatchesSeveralNamespaces: one Role and RoleBinding per listed namespace, none
// cluster-wide, and the manager told the list.
func TestChart_WatchesSeveralNamespaces(t *testing.T) {
	objs, err := render(t, loadChart(t), "watchNamespaces: [shop-a, shop-b]\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"shop-a", "shop-b"} {
		for _, k := range []string{"Role/" + ns + "/littleecom-manager-role", "RoleBinding/" + ns + "/littleecom-manager-rolebinding"} {
			if objs[k] == nil {
				t.Errorf("no %s; rendered %v", k, keys(objs))
			}
		}
	}
	for _, k := range []string{"ClusterRole//littleecom-manager-role", "ClusterRoleBinding//littleecom-manager-rolebinding"} {
		if objs[k] != nil {
			t.Errorf("a namespace-scoped installation renders %s", k)
		}
	}
	args := managerArgs(t, objs)
	if !slices.Contains(args, "--watch-namespaces=shop-a,shop-b") {
		t.Errorf("manager args %v lack --watch-namespaces=shop-a,shop-b", args)
	}
}

// TestChart_DefaultImagesAndExtras: the values reach the manager's flags and the pod.
func TestChart_DefaultImagesAndExtras(t *testing.T) {
	objs, err := render(t, loadChart(t), `
image: {repository: registry.example/ops/manager, tag: "9.9.9"}
defaultImages: {backend: "registry.example/shop/backend:2", mongodb: "mongo:8.0"}
extraArgs: ["--zap-log-level=debug"]
nodeSelector: {kubernetes.io/os: linux}
`)
	if err != nil {
		t.Fatal(err)
	}
	args := managerArgs(t, objs)
	for _, want := range []string{"--default-backend-image=registry.example/shop/backend:2", "--default-mongodb-image=mongo:8.0", "--zap-log-level=debug"} {
		if !slices.Contains(args, want) {
			t.Errorf("manager args %v lack %s", args, want)
		}
	}
	for _, a := range args {
		if strings.HasPrefix(a, "--default-auth-image") {
			t.Errorf("an empty default image is passed on: %s", a)
		}
	}
	checkImage(t, objs, "registry.example/ops/manager:9.9.9")
}

// TestChart_RefusesBadValues: values.schema.json stops a mistake before anything is
// installed, with a message that names the value.
func TestChart_RefusesBadValues(t *testing.T) {
	c := loadChart(t)
	for values, wantInErr := range map[string]string{
		"watchNamespaces: shop\n":            "watchNamespaces",
		"watchNamespaces: [Shop_1]\n":        "watchNamespaces",
		"image: {pullPolicy: Sometimes}\n":   "pullPolicy",
		"metrics: {port: 70000}\n":           "port",
		"defaultImages: {postgres: pg:16}\n": "postgres",
	} {
		_, err := render(t, c, values)
		if err == nil || !strings.Contains(err.Error(), wantInErr) {
			t.Errorf("values %q: err = %v, want a schema error naming %s", values, err, wantInErr)
		}
	}
}

func managerArgs(t *testing.T, objs map[string]*unstructured.Unstructured) []string {
	t.Helper()
	dep := objs["Deployment/"+releaseNamespace+"/littleecom-controller-manager"]
	if dep == nil {
		t.Fatal("no operator Deployment")
	}
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	var args []string
	for _, a := range containers[0].(map[string]any)["args"].([]any) {
		args = append(args, a.(string))
	}
	return args
}
