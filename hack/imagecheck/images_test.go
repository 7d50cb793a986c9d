package imagecheck

import (
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"littleecom.io/littleecom/hack/images/imagebuild"
)

// `make images` builds the programs' images without the Dockerfile (there is no container
// engine here). These tests hold hack/images/imagebuild to the Dockerfile: same build, same
// files, same user and entrypoint. Change one, and they say what the other must follow.

func TestImages_BuildLikeTheDockerfile(t *testing.T) {
	env, args := buildArgs(t, readDockerfile(t))
	if !slices.Equal(args, imagebuild.GoBuildArgs) {
		t.Errorf("imagebuild.GoBuildArgs = %q, the Dockerfile builds with %q", imagebuild.GoBuildArgs, args)
	}
	for _, e := range env {
		if !slices.Contains(imagebuild.GoBuildEnv, e) {
			t.Errorf("imagebuild.GoBuildEnv = %q lacks the Dockerfile's %s", imagebuild.GoBuildEnv, e)
		}
	}
}

func TestImages_RunLikeTheDockerfile(t *testing.T) {
	final := finalStage(t)
	cfg := imagebuild.Program("littleecom/manager", "0.1.0", "/dev/null", "/app").Config
	user := regexp.MustCompile(`(?m)^USER (\S+)$`).FindStringSubmatch(final)
	if user == nil || user[1] != cfg.User {
		t.Errorf("the Dockerfile's USER %v, imagebuild runs as %q", user, cfg.User)
	}
	entry := regexp.MustCompile(`(?m)^ENTRYPOINT \["([^"]+)"\]$`).FindStringSubmatch(final)
	if entry == nil || !slices.Equal([]string{entry[1]}, cfg.Entrypoint) {
		t.Errorf("the Dockerfile's ENTRYPOINT %v, imagebuild's %q", entry, cfg.Entrypoint)
	}
}

// Every COPY of the final stage has its file in the image, and the image has nothing else
// (the parent directories aside).
func TestImages_HoldWhatTheDockerfileCopies(t *testing.T) {
	var want []string
	for _, m := range regexp.MustCompile(`(?m)^COPY --from=build (\S+) (\S+)$`).FindAllStringSubmatch(finalStage(t), -1) {
		dst := m[2]
		if strings.HasSuffix(dst, "/") {
			dst += path.Base(m[1])
		}
		want = append(want, dst)
	}
	spec := imagebuild.Program("littleecom/manager", "0.1.0", "/dev/null", "/app")
	var got []string
	modes := map[string]fs.FileMode{}
	for _, l := range spec.Layers {
		for _, e := range l.Files {
			got = append(got, e.Path)
			modes[e.Path] = e.Mode
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("imagebuild's image holds %q, the Dockerfile copies %q", got, want)
	}
	// The build stage makes /out/tmp with chmod 1777 before copying it to /tmp.
	if !strings.Contains(readDockerfile(t), "chmod 1777 /out/tmp") {
		t.Error("the Dockerfile no longer makes /tmp 1777: update imagebuild.BaseLayer with it")
	}
	if m := modes["/tmp"]; !m.IsDir() || m&fs.ModeSticky == 0 || m.Perm() != 0o777 {
		t.Errorf("imagebuild's /tmp has mode %v, want a sticky world-writable directory (1777)", m)
	}
	if !strings.Contains(finalStage(t), imagebuild.HostCACerts) {
		t.Errorf("the Dockerfile copies no %s, which imagebuild carries", imagebuild.HostCACerts)
	}
}

func finalStage(t *testing.T) string {
	t.Helper()
	d := readDockerfile(t)
	i := strings.LastIndex(d, "FROM scratch")
	if i < 0 {
		t.Fatal("the Dockerfile has no `FROM scratch` final stage")
	}
	return d[i:]
}
