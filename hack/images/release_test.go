package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRelease_StampsVersionAndTag: with RELEASE_VERSION the images carry the release as
// their tag, and the programs, linked with the release's flags, report it.
func TestRelease_StampsVersionAndTag(t *testing.T) {
	t.Setenv("RELEASE_VERSION", "1.2.3")
	b := testBuilder(t)
	if b.vars["IMAGE_TAG"] != "1.2.3" {
		t.Errorf("IMAGE_TAG = %q, want the release", b.vars["IMAGE_TAG"])
	}
	args := strings.Join(b.goBuildArgs(), " ")
	for _, want := range []string{"-s -w", versionVar + "=1.2.3", operatorVersionVar + "=1.2.3"} {
		if !strings.Contains(args, want) {
			t.Errorf("go build %s: %q missing", args, want)
		}
	}

	// The variables exist where the flags say: a wrong path would be ignored by the linker.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "notifier")
	build := exec.CommandContext(ctx, "go", append(append([]string{"build"}, b.goBuildArgs()...), "-o", bin, "../../cmd/notifier")...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		t.Fatalf("notifier --version: %v", err)
	}
	if !strings.HasPrefix(string(out), "notifier 1.2.3 ") {
		t.Errorf("notifier --version = %q, want the release", out)
	}
}

func TestRelease_DevelopmentBuildIsNotStamped(t *testing.T) {
	t.Setenv("RELEASE_VERSION", "")
	t.Setenv("IMAGE_TAG", "")
	b := testBuilder(t)
	if got := strings.Join(b.goBuildArgs(), " "); strings.Contains(got, "-X") {
		t.Errorf("go build %s: a development build is stamped", got)
	}
	if b.vars["IMAGE_TAG"] != defaultImageTag {
		t.Errorf("IMAGE_TAG = %q, want %q", b.vars["IMAGE_TAG"], defaultImageTag)
	}
}
