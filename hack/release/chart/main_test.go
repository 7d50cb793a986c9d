package main

import (
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

func TestRun_PackagesTheChartAtTheRelease(t *testing.T) {
	out := t.TempDir()
	if err := run([]string{"-version", "1.2.3", "-chart", "../../../charts/littleecom", "-out", out}); err != nil {
		t.Fatal(err)
	}
	c, err := loader.Load(filepath.Join(out, "littleecom-1.2.3.tgz"))
	if err != nil {
		t.Fatalf("the package does not load: %v", err)
	}
	if c.Metadata.Version != "1.2.3" || c.Metadata.AppVersion != "1.2.3" {
		t.Errorf("version %q, appVersion %q, want both 1.2.3", c.Metadata.Version, c.Metadata.AppVersion)
	}
	if len(c.CRDObjects()) == 0 {
		t.Error("the package has no CRD")
	}
}

func TestRun_RefusesAVersionThatIsNotSemver(t *testing.T) {
	for _, v := range []string{"", "v1.2.3", "1.2", "latest"} {
		err := run([]string{"-version", v, "-chart", "../../../charts/littleecom", "-out", t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "version") {
			t.Errorf("-version %q: err = %v, want a refusal that names the version", v, err)
		}
	}
}
