// Package repopath finds this repository's checkout from code compiled in it: the tests
// that read the tree (PROJECT, the Helm chart) run from their own package directories.
package repopath

import (
	"errors"
	"path/filepath"
	"runtime"
)

// Root returns the checkout's top directory, found from this source file's place in it.
func Root() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("repopath: cannot locate its own source file")
	}
	return filepath.Join(filepath.Dir(file), "..", ".."), nil
}
