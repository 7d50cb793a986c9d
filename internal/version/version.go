// Package version says which release of LittleEcom a binary is. The release script
// (hack/release/release.sh) stamps it at link time:
//
//	go build -ldflags "-X littleecom.io/littleecom/internal/version.version=1.2.3" ./cmd/...
//
// An unstamped binary (go run, go test, make build) falls back to what the Go toolchain
// recorded (runtime/debug.ReadBuildInfo): the main module's version when it was built from a
// module version or a tagged checkout, else "devel", and the VCS revision when it was
// stamped. Every program reports the same Info through --version, its startup log and the
// littleecom_build_info metric.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// version is the release, set with -ldflags -X (a variable, not a constant, so the linker
// can); empty when not stamped.
var version string

// Devel is the version of a binary that was neither stamped nor built from a module version.
const Devel = "devel"

// Info is a binary's identity.
type Info struct {
	// Version is the release ("1.2.3"), or the module version, or Devel.
	Version string
	// Revision is the VCS commit the binary was built from ("" when not recorded), with
	// "-dirty" when the work tree had changes.
	Revision string
	// GoVersion is the toolchain that built it.
	GoVersion string
}

var (
	once sync.Once
	info Info
)

// Get returns this binary's Info (computed once).
func Get() Info {
	once.Do(func() {
		bi, _ := debug.ReadBuildInfo()
		info = resolve(version, bi)
	})
	return info
}

// Version is Get().Version.
func Version() string { return Get().Version }

// resolve prefers the stamped version, then the module's, and reads the revision from the
// build settings; bi may be nil (a binary without build information).
func resolve(stamped string, bi *debug.BuildInfo) Info {
	out := Info{Version: strings.TrimPrefix(strings.TrimSpace(stamped), "v"), GoVersion: runtime.Version()}
	if bi == nil {
		if out.Version == "" {
			out.Version = Devel
		}
		return out
	}
	if bi.GoVersion != "" {
		out.GoVersion = bi.GoVersion
	}
	if out.Version == "" {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			out.Version = strings.TrimPrefix(v, "v")
		} else {
			out.Version = Devel
		}
	}
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			out.Revision = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && out.Revision != "" {
		out.Revision += "-dirty"
	}
	return out
}

// String is the line --version prints: "<program> 1.2.3 (revision abc123, go1.26.8)".
func (i Info) String() string {
	rev := i.Revision
	if rev == "" {
		rev = "unknown"
	}
	return fmt.Sprintf("%s (revision %s, %s)", i.Version, rev, i.GoVersion)
}
