package testinfra

import (
	"os"
	"testing"

	"littleecom.io/littleecom/internal/ferret"
)

// StartFerretDB runs an embedded FerretDB v1 with the SQLite backend in t.TempDir() on a free
// loopback port and returns its URI (with directConnection=true). It stops on t.Cleanup.
func StartFerretDB(t testing.TB) string {
	t.Helper()
	s, err := ferret.Start("127.0.0.1:0", t.TempDir(), os.Stderr)
	if err != nil {
		t.Fatalf("start FerretDB: %v", err)
	}
	t.Cleanup(s.Stop)
	return s.URI()
}
