package version

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestResolve(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name    string
		stamped string
		bi      *debug.BuildInfo
		want    Info
	}{
		{"stamped wins over the module version", "1.2.3",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.9.0"}},
			Info{Version: "1.2.3", GoVersion: "go1.26.8"}},
		{"a v prefix is dropped", "v2.0.0-rc.1", &debug.BuildInfo{GoVersion: "go1.26.8"},
			Info{Version: "2.0.0-rc.1", GoVersion: "go1.26.8"}},
		{"module version when not stamped", "",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.4.1"}},
			Info{Version: "0.4.1", GoVersion: "go1.26.8"}},
		{"a work-tree build is devel, with its revision", "",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
				Settings: settings("vcs.revision", "abc123", "vcs.modified", "false")},
			Info{Version: Devel, Revision: "abc123", GoVersion: "go1.26.8"}},
		{"a modified tree marks the revision", "1.0.0",
			&debug.BuildInfo{GoVersion: "go1.26.8", Settings: settings("vcs.modified", "true", "vcs.revision", "abc123")},
			Info{Version: "1.0.0", Revision: "abc123-dirty", GoVersion: "go1.26.8"}},
		{"no build information at all", "", nil, Info{Version: Devel, GoVersion: runtime.Version()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resolve(tt.stamped, tt.bi); got != tt.want {
				t.Errorf("resolve(%q) = %+v, want %+v", tt.stamped, got, tt.want)
			}
		})
	}
}

// Test binaries are not stamped: the version is the fallback, and what every report shows.
func TestReportsAgree(t *testing.T) {
	i := Get()
	if i.Version == "" || i.GoVersion == "" {
		t.Fatalf("Get() = %+v: version and go version must never be empty", i)
	}
	var out bytes.Buffer
	Print(&out, "auth")
	if want := "auth " + i.Version + " (revision "; !strings.HasPrefix(out.String(), want) {
		t.Errorf("Print wrote %q, want the prefix %q", out.String(), want)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector("auth"))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 1 || mfs[0].GetName() != MetricName || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gathered %v, want the one series %s", mfs, MetricName)
	}
	m := mfs[0].GetMetric()[0]
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	want := map[string]string{"program": "auth", "version": i.Version, "revision": i.Revision, "goversion": i.GoVersion}
	if fmt.Sprint(labels) != fmt.Sprint(want) || m.GetGauge().GetValue() != 1 {
		t.Errorf("%s = %v %v, want %v 1", MetricName, labels, m.GetGauge().GetValue(), want)
	}
}

func TestRequested(t *testing.T) {
	for args, want := range map[string]bool{
		"--version": true, "-version": true, "": false, "--version extra": false, "--versions": false,
	} {
		if got := Requested(strings.Fields(args)); got != want {
			t.Errorf("Requested(%q) = %v, want %v", args, got, want)
		}
	}
}
