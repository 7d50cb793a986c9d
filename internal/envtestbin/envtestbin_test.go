package envtestbin

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAssets_NewestCompleteVersion(t *testing.T) {
	t.Setenv("KUBEBUILDER_ASSETS", "")
	root := t.TempDir()
	for _, v := range []string{"1.36.0", "1.37.2", "1.38.0"} {
		dir := filepath.Join(root, "bin", "k8s", v)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		files := []string{"kube-apiserver", "etcd"}
		if v == "1.38.0" {
			files = files[:1] // a build that did not finish
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, f), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got, want := Assets(root), filepath.Join(root, "bin", "k8s", "1.37.2"); got != want {
		t.Errorf("Assets = %s, want %s", got, want)
	}
	t.Setenv("KUBEBUILDER_ASSETS", "/elsewhere")
	if got := Assets(root); got != "/elsewhere" {
		t.Errorf("KUBEBUILDER_ASSETS not preferred: %s", got)
	}
}

func TestRoot_FindsGoMod(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Errorf("Root = %s without go.mod", root)
	}
}
