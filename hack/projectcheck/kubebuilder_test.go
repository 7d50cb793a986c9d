package projectcheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestKubebuilder_ScaffoldsWhereTheDocsSay runs the kubebuilder CLI through
// hack/kubebuilder.sh on a copy of the tree, as a developer adding to the project would: a
// new API version with a kind and its controller, a second controller for LittleEcom, and a
// webhook for LittleEcom. The
// scaffold must land where docs/architecture.md says (api/<version>, controllers/,
// internal/webhook/<version>), PROJECT must still describe the tree, the manager's main must
// be untouched, and the packages kubebuilder wrote or changed must type-check.
func TestKubebuilder_ScaffoldsWhereTheDocsSay(t *testing.T) {
	if testing.Short() {
		t.Skip("runs kubebuilder and type-checks the operator's packages")
	}
	root := repoRoot(t)
	kubebuilder := filepath.Join(root, "bin", "kubebuilder")
	if _, err := os.Stat(kubebuilder); err != nil {
		t.Fatalf("%s is missing (make kubebuilder installs it): %v", kubebuilder, err)
	}
	tree := copyTree(t, root)
	manager := readFile(t, filepath.Join(tree, "cmd", "manager", "main.go"))

	run(t, tree, "hack/kubebuilder.sh", "create", "api", "--group", "shop", "--version", "v1alpha2",
		"--kind", "Foo", "--resource", "--controller")
	run(t, tree, "hack/kubebuilder.sh", "create", "api", "--group", "shop", "--version", "v1",
		"--kind", "LittleEcom", "--resource=false", "--controller", "--controller-name", "shop-audit")
	run(t, tree, "hack/kubebuilder.sh", "create", "webhook", "--group", "shop", "--version", "v1",
		"--kind", "LittleEcom", "--defaulting", "--programmatic-validation")

	for _, path := range []string{
		"api/v1alpha2/foo_types.go",
		"api/v1alpha2/zz_generated.deepcopy.go", // kubebuilder ran make generate
		"controllers/foo_controller.go",
		"controllers/foo_controller_test.go",
		"controllers/shop_audit_controller.go",
		"internal/webhook/v1/littleecom_webhook.go",
		"config/samples/shop_v1alpha2_foo.yaml",
	} {
		if _, err := os.Stat(filepath.Join(tree, path)); err != nil {
			t.Errorf("kubebuilder's scaffold is not where docs/architecture.md says: %v", err)
		}
	}
	for _, path := range []string{"cmd/main.go", "test", "internal/controller"} {
		if _, err := os.Stat(filepath.Join(tree, path)); err == nil {
			t.Errorf("%s is left behind: hack/kubebuilder.sh must remove its stubs and move go/v4's controllers", path)
		}
	}
	if got := readFile(t, filepath.Join(tree, "controllers", "foo_controller.go")); !strings.Contains(got, "\npackage controllers\n") {
		t.Error("controllers/foo_controller.go is not in package controllers")
	}
	if !strings.Contains(readFile(t, filepath.Join(tree, "config", "crd", "kustomization.yaml")), "bases/shop.littleecom.io_foos.yaml") {
		t.Error("config/crd/kustomization.yaml does not list the new CRD")
	}
	if got := readFile(t, filepath.Join(tree, "cmd", "manager", "main.go")); got != manager {
		t.Error("kubebuilder changed cmd/manager/main.go; its wiring belongs in controllers.NewScheme and SetupWithOptions")
	}

	p := readProject(t, tree)
	checkAgreement(t, tree, p)
	var foo, littleEcom bool
	for _, r := range p.Resources {
		foo = foo || (r.Kind == "Foo" && r.Version == "v1alpha2" && r.Controller && r.API != nil)
		littleEcom = littleEcom || (r.Kind == "LittleEcom" && r.Webhooks != nil && len(r.reconcilers()) == 2)
	}
	if !foo || !littleEcom {
		t.Errorf("PROJECT does not record what kubebuilder scaffolded (Foo with a controller: %v, "+
			"LittleEcom's second controller and webhooks: %v)", foo, littleEcom)
	}

	// vet type-checks the packages and their tests without linking; the manager proves the
	// stub main is gone and the real one still compiles.
	run(t, tree, "go", "vet", "./api/...", "./controllers/", "./internal/webhook/...", "./cmd/manager/")
}

// copyTree copies the repository's files (tracked, and new ones git does not ignore) into a
// temporary directory and links bin/ to the repository's, for the cached tools.
func copyTree(t *testing.T, root string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("listing the repository's files: %v", err)
	}
	tree := t.TempDir()
	for name := range strings.SplitSeq(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, name)
		info, err := os.Lstat(src)
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the work tree, or a link (bin/ in a git worktree)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatalf("reading %s: %v", name, err)
		}
		dst := filepath.Join(tree, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	bin, err := filepath.EvalSymlinks(filepath.Join(root, "bin"))
	if err != nil {
		t.Fatalf("bin/: %v", err)
	}
	if err := os.Symlink(bin, filepath.Join(tree, "bin")); err != nil {
		t.Fatal(err)
	}
	return tree
}

// run runs a command in dir and fails the test with its output when it fails.
func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader("") // kubebuilder prompts for what no flag says
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return string(data)
}
