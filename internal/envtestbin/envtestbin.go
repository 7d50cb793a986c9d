// Package envtestbin finds the kube-apiserver and etcd that hack/build-envtest.sh builds into
// bin/k8s/<version>, for the envtest suites, the dev stack and the benchmarks.
package envtestbin

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
)

// Root walks up from the working directory to the directory holding go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Assets returns KUBEBUILDER_ASSETS, or the newest <root>/bin/k8s/<version> holding both
// binaries, or "" (then run make envtest).
func Assets(root string) string {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir
	}
	matches, _ := filepath.Glob(filepath.Join(root, "bin", "k8s", "*"))
	for _, dir := range slices.Backward(matches) {
		_, e1 := os.Stat(filepath.Join(dir, "kube-apiserver"))
		_, e2 := os.Stat(filepath.Join(dir, "etcd"))
		if e1 == nil && e2 == nil {
			return dir
		}
	}
	return ""
}

// Find is Assets of the module the working directory is in.
func Find() string {
	root, err := Root()
	if err != nil {
		return ""
	}
	return Assets(root)
}
