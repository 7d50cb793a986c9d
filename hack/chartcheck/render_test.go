package chartcheck

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"littleecom.io/littleecom/internal/repopath"
)

// The release `helm install littleecom charts/littleecom -n littleecom-system` makes: with
// these, the chart's names and namespaces are config/default's.
const (
	releaseName      = "littleecom"
	releaseNamespace = "littleecom-system"
	// kubeVersion is the API server the chart is rendered for (hack/versions.env's).
	kubeVersion = "v1.37.2"
)

// repoRoot is the repository, two directories above this file.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := repopath.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func chartDir(t testing.TB) string { return filepath.Join(repoRoot(t), "charts", "littleecom") }

func loadChart(t testing.TB) *chart.Chart {
	t.Helper()
	c, err := loader.Load(chartDir(t))
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	return c
}

func capabilities(t testing.TB) *common.Capabilities {
	t.Helper()
	caps := common.DefaultCapabilities.Copy()
	kv, err := common.ParseKubeVersion(kubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	caps.KubeVersion = *kv
	return caps
}

// render is `helm template` of the chart with values (YAML), CRDs included: the objects
// keyed by kind/namespace/name. A values error (the schema) is returned, not fatal.
func render(t testing.TB, c *chart.Chart, values string) (map[string]*unstructured.Unstructured, error) {
	t.Helper()
	vals, err := common.ReadValues([]byte(values))
	if err != nil {
		t.Fatalf("values %q: %v", values, err)
	}
	rv, err := util.ToRenderValuesWithSchemaValidation(c, vals,
		common.ReleaseOptions{Name: releaseName, Namespace: releaseNamespace, IsInstall: true, Revision: 1},
		capabilities(t), false)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(c, rv)
	if err != nil {
		return nil, err
	}
	var docs bytes.Buffer
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if strings.HasSuffix(name, "NOTES.txt") || strings.HasPrefix(filepath.Base(name), "_") {
			continue
		}
		fmt.Fprintf(&docs, "\n---\n%s\n", files[name])
	}
	for _, crd := range c.CRDObjects() {
		fmt.Fprintf(&docs, "\n---\n%s\n", crd.File.Data)
	}
	return decode(t, docs.Bytes()), nil
}

// kustomizeBuild is `bin/kustomize build config/<overlay>`.
func kustomizeBuild(t testing.TB, overlay string) map[string]*unstructured.Unstructured {
	t.Helper()
	root := repoRoot(t)
	bin := filepath.Join(root, "bin", "kustomize")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is missing (make kustomize builds it): %v", bin, err)
	}
	cmd := exec.Command(bin, "build", filepath.Join(root, "config", overlay))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize build config/%s: %v\n%s", overlay, err, stderr.String())
	}
	return decode(t, out)
}

// decode splits a YAML stream into objects keyed by kind/namespace/name; a key seen twice
// fails the test (two objects of one name would fight in the cluster).
func decode(t testing.TB, stream []byte) map[string]*unstructured.Unstructured {
	t.Helper()
	out := map[string]*unstructured.Unstructured{}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("reading YAML: %v", err)
		}
		var obj map[string]any
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			t.Fatalf("decoding YAML: %v\n%s", err, doc)
		}
		if len(obj) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		k := key(u)
		if _, dup := out[k]; dup {
			t.Fatalf("%s is rendered twice", k)
		}
		out[k] = u
	}
}

func key(u *unstructured.Unstructured) string {
	return u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
}

func keys(m map[string]*unstructured.Unstructured) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func toYAML(t testing.TB, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHelmCLIMatchesLibrary keeps the helm CLI that installs the chart on the node (make
// cluster, HELM_VERSION in hack/versions.env) at the release whose library these tests use.
func TestHelmCLIMatchesLibrary(t *testing.T) {
	version := func(file, prefix string) string {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), file))
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
				return strings.Fields(v)[0]
			}
		}
		return ""
	}
	lib := version("go.mod", "helm.sh/helm/v4 ")
	cli := version(filepath.Join("hack", "versions.env"), "HELM_VERSION=")
	if lib == "" || cli != lib {
		t.Errorf("hack/versions.env HELM_VERSION=%q, go.mod's helm.sh/helm/v4 is %q: keep them at one release", cli, lib)
	}
}
