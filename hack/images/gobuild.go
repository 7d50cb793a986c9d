package main

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"littleecom.io/littleecom/hack/images/imagebuild"
)

// buildPrograms builds the main-module packages of targets with the Dockerfile's flags, in
// one `go build` (it skips what is up to date), into bin/.build/images/bin. It returns each
// target's binary, and why a target is skipped when its package is not there yet.
func (b *builder) buildPrograms(ctx context.Context, targets []target) (bins, missing map[string]string, err error) {
	bins, missing = map[string]string{}, map[string]string{}
	binDir := filepath.Join(b.work, "bin")
	var pkgs []string
	for _, t := range targets {
		if t.pkg == "" {
			continue
		}
		dir := filepath.Join(b.root, filepath.FromSlash(t.pkg))
		if goFiles, _ := filepath.Glob(filepath.Join(dir, "*.go")); len(goFiles) == 0 {
			missing[t.short] = b.rel(dir) + " has no Go files yet (another change adds it)"
			continue
		}
		pkgs = append(pkgs, t.pkg)
		bins[t.short] = filepath.Join(binDir, path.Base(t.pkg))
	}
	if len(pkgs) == 0 {
		return bins, missing, nil
	}
	start := time.Now()
	b.log.Info("building programs", "packages", strings.Join(pkgs, " "))
	args := append(append([]string{"build"}, b.goBuildArgs()...), "-o", binDir+string(filepath.Separator))
	if err := b.command(ctx, b.root, imagebuild.GoBuildEnv, "go", append(args, pkgs...)...); err != nil {
		return nil, missing, err
	}
	for short, bin := range bins {
		if err := imagebuild.CheckStatic(bin); err != nil {
			return nil, missing, fmt.Errorf("%s: %w", short, err)
		}
	}
	b.log.Info("programs built", "seconds", fmt.Sprintf("%.1f", time.Since(start).Seconds()))
	return bins, missing, nil
}

// Link-time variables a release stamps (hack/release/release.sh sets RELEASE_VERSION): the
// version every program reports (--version, its startup log, littleecom_build_info) and the
// tag of the services' images the operator defaults to.
const (
	versionVar         = "littleecom.io/littleecom/internal/version.version"
	operatorVersionVar = "littleecom.io/littleecom/internal/resource.OperatorVersion"
)

// goBuildArgs are the Dockerfile's build flags, plus the release's version stamps when
// RELEASE_VERSION is set (a development build reports "devel" and keeps the compiled-in
// default image tag).
func (b *builder) goBuildArgs() []string {
	release := b.vars["RELEASE_VERSION"]
	if release == "" {
		return imagebuild.GoBuildArgs
	}
	args := make([]string, 0, len(imagebuild.GoBuildArgs))
	for _, a := range imagebuild.GoBuildArgs {
		if ld, ok := strings.CutPrefix(a, "-ldflags="); ok {
			a = "-ldflags=" + ld + " -X " + versionVar + "=" + release + " -X " + operatorVersionVar + "=" + release
		}
		args = append(args, a)
	}
	return args
}

// mailpitModule is the upstream module whose main package the mailpit image runs.
const mailpitModule = "github.com/axllent/mailpit"

// buildMailpit builds Mailpit at MAILPIT_VERSION from its Go module, in a stub module of its
// own under bin/.build/mailpit (its dependencies must not enter ours), as
// hack/build-envtest.sh builds etcd. Its web UI's JavaScript is not in the Go module (npm
// builds it), so the UI pages are empty; SMTP and the API, which the tests use, are whole.
func (b *builder) buildMailpit(ctx context.Context) (string, error) {
	version := b.vars["MAILPIT_VERSION"]
	if version == "" {
		return "", fmt.Errorf("MAILPIT_VERSION is not set in hack/versions.env")
	}
	dir := filepath.Join(b.root, "bin", ".build", "mailpit")
	if err := b.mailpitStub(ctx, dir, version); err != nil {
		return "", err
	}
	bin := filepath.Join(b.work, "bin", "mailpit")
	start := time.Now()
	b.log.Info("building mailpit", "version", version, "dir", b.rel(dir))
	ldflags := "-ldflags=-s -w -X " + mailpitModule + "/config.Version=" + version
	env := append([]string{"GOFLAGS=-mod=mod"}, imagebuild.GoBuildEnv...)
	if err := b.command(ctx, dir, env, "go", "build", "-trimpath", ldflags, "-o", bin, mailpitModule); err != nil {
		return "", err
	}
	if err := imagebuild.CheckStatic(bin); err != nil {
		return "", err
	}
	b.log.Info("mailpit built", "seconds", fmt.Sprintf("%.1f", time.Since(start).Seconds()))
	return bin, nil
}

// mailpitStub writes the stub module and resolves its graph, once per version (a marker
// file remembers which version the graph is for).
func (b *builder) mailpitStub(ctx context.Context, dir, version string) error {
	marker := filepath.Join(dir, ".version")
	if v, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(v)) == version {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(dir, "go.sum"))
	gomod := "module littleecom.io/image-mailpit\n\ngo 1.26\n\nrequire " + mailpitModule + " " + version + "\n"
	// The stub's imports only anchor the graph of Mailpit's main package, which is built directly.
	stub := "package main\n\nimport (\n\t_ \"" + mailpitModule + "/cmd\"\n\t_ \"" + mailpitModule + "/sendmail/cmd\"\n)\n\nfunc main() {}\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(stub), 0o644); err != nil {
		return err
	}
	if err := b.command(ctx, dir, []string{"GOFLAGS=-mod=mod"}, "go", "mod", "tidy"); err != nil {
		return err
	}
	return os.WriteFile(marker, []byte(version+"\n"), 0o644)
}
