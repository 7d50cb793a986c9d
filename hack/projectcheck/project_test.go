package projectcheck

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"littleecom.io/littleecom/internal/repopath"
)

// layout is the plugin chain PROJECT declares: kubebuilder's Go and kustomize scaffolding.
const layout = "go.kubebuilder.io/v4"

// project is the part of kubebuilder's PROJECT file (config version 3) the tests compare.
type project struct {
	CLIVersion string     `json:"cliVersion"`
	Domain     string     `json:"domain"`
	Layout     []string   `json:"layout"`
	MultiGroup bool       `json:"multigroup"`
	Repo       string     `json:"repo"`
	Resources  []resource `json:"resources"`
	Version    string     `json:"version"`
}

type resource struct {
	API        *struct{} `json:"api"`
	Controller bool      `json:"controller"`
	// Controllers replaces Controller once a kind has more than one (--controller-name).
	Controllers []struct {
		Name string `json:"name"`
	} `json:"controllers"`
	Domain   string    `json:"domain"`
	Group    string    `json:"group"`
	Kind     string    `json:"kind"`
	Path     string    `json:"path"`
	Version  string    `json:"version"`
	Webhooks *struct{} `json:"webhooks"`
}

// reconcilers are the types of the resource's controllers, named as kubebuilder names them
// (NormalizeReconcilerName): <Kind>Reconciler, or the controller's name in PascalCase.
func (r resource) reconcilers() []string {
	if r.Controller {
		return []string{r.Kind + "Reconciler"}
	}
	var names []string
	for _, c := range r.Controllers {
		if c.Name == strings.ToLower(r.Kind) {
			names = append(names, r.Kind+"Reconciler")
			continue
		}
		var name strings.Builder
		for part := range strings.SplitSeq(c.Name, "-") {
			if part != "" {
				name.WriteString(strings.ToUpper(part[:1]) + part[1:])
			}
		}
		names = append(names, name.String()+"Reconciler")
	}
	return names
}

// repoRoot is the repository, two directories above this file.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := repopath.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func readProject(t testing.TB, root string) project {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "PROJECT"))
	if err != nil {
		t.Fatalf("reading PROJECT: %v", err)
	}
	// Not strict: the fields left out (plugins' settings, ...) are kubebuilder's business.
	var p project
	if err := yaml.Unmarshal(data, &p); err != nil {
		t.Fatalf("parsing PROJECT: %v", err)
	}
	return p
}

// pinnedKubebuilder is KUBEBUILDER_VERSION from hack/versions.env, without its "v".
func pinnedKubebuilder(t testing.TB, root string) string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "hack", "versions.env"))
	if err != nil {
		t.Fatalf("reading hack/versions.env: %v", err)
	}
	defer func() { _ = f.Close() }()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "KUBEBUILDER_VERSION="); ok {
			return strings.TrimPrefix(v, "v")
		}
	}
	t.Fatal("hack/versions.env sets no KUBEBUILDER_VERSION")
	return ""
}

// TestProject_MatchesTree: PROJECT describes this tree, and is the project of the kubebuilder
// release hack/kubebuilder.sh runs.
func TestProject_MatchesTree(t *testing.T) {
	root := repoRoot(t)
	p := readProject(t, root)
	if want := pinnedKubebuilder(t, root); p.CLIVersion != want {
		t.Errorf("PROJECT's cliVersion is %q, hack/versions.env's KUBEBUILDER_VERSION %q: "+
			"run hack/kubebuilder.sh with the pinned release, or move both together", p.CLIVersion, want)
	}
	checkAgreement(t, root, p)
}

// checkAgreement holds PROJECT p to the tree at root.
func checkAgreement(t *testing.T, root string, p project) {
	t.Helper()
	if p.Version != "3" || !slices.Equal(p.Layout, []string{layout}) {
		t.Errorf("PROJECT is config version %q with layout %v, want version 3 with [%s]", p.Version, p.Layout, layout)
	}
	if p.MultiGroup {
		t.Error("PROJECT is multigroup; the tree is single-group (api/<version>), as docs/architecture.md says")
	}
	if module := modulePath(t, root); p.Repo != module {
		t.Errorf("PROJECT's repo is %q, go.mod's module %q", p.Repo, module)
	}
	// go/v4's two default places this project does not use.
	for _, path := range []string{"cmd/main.go", "internal/controller"} {
		if _, err := os.Stat(filepath.Join(root, path)); err == nil {
			t.Errorf("%s exists: the manager is cmd/manager and reconcilers live in controllers/ "+
				"(hack/kubebuilder.sh moves kubebuilder's output there)", path)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "manager", "main.go")); err != nil {
		t.Errorf("the manager's main: %v", err)
	}
	reconcilers := typeNames(t, filepath.Join(root, "controllers"))
	for _, r := range p.Resources {
		name := r.Group + "/" + r.Version + " " + r.Kind
		dir, ok := strings.CutPrefix(r.Path, p.Repo+"/")
		if !ok || dir != "api/"+r.Version {
			t.Errorf("%s: path %q, want %s/api/%s", name, r.Path, p.Repo, r.Version)
			continue
		}
		if r.Domain != p.Domain {
			t.Errorf("%s: domain %q, the project's is %q", name, r.Domain, p.Domain)
		}
		if r.API != nil {
			types := typeNames(t, filepath.Join(root, dir))
			for _, want := range []string{r.Kind, r.Kind + "List"} {
				if !types[want] {
					t.Errorf("%s: %s declares no type %s", name, dir, want)
				}
			}
			checkGroupVersion(t, filepath.Join(root, dir, "groupversion_info.go"), r.Group+"."+r.Domain, r.Version)
		}
		for _, reconciler := range r.reconcilers() {
			if !reconcilers[reconciler] {
				t.Errorf("%s: PROJECT records a controller, controllers/ declares no %s", name, reconciler)
			}
		}
		if r.Webhooks != nil {
			webhook := filepath.Join(root, "internal", "webhook", r.Version, strings.ToLower(r.Kind)+"_webhook.go")
			if _, err := os.Stat(webhook); err != nil {
				t.Errorf("%s: PROJECT records webhooks: %v", name, err)
			}
		}
	}
}

func modulePath(t testing.TB, root string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatalf("reading go.mod: %v", err)
	}
	for line := range strings.Lines(string(data)) {
		if module, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(module), `"`)
		}
	}
	t.Fatal("go.mod names no module")
	return ""
}

// typeNames are the types a package directory declares (its non-test files).
func typeNames(t testing.TB, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatalf("listing %s: %v", dir, err)
	}
	names := map[string]bool{}
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parsing %s: %v", file, err)
		}
		for _, decl := range f.Decls {
			if gen, ok := decl.(*ast.GenDecl); ok && gen.Tok == token.TYPE {
				for _, spec := range gen.Specs {
					names[spec.(*ast.TypeSpec).Name.Name] = true
				}
			}
		}
	}
	return names
}

// checkGroupVersion: the package registers the group and version PROJECT names.
func checkGroupVersion(t testing.TB, file, group, version string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Errorf("reading %s: %v", file, err)
		return
	}
	want := `schema.GroupVersion{Group: "` + group + `", Version: "` + version + `"}`
	if !strings.Contains(string(data), want) {
		t.Errorf("%s does not register %s", file, want)
	}
}
