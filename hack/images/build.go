package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"littleecom.io/littleecom/hack/images/imagebuild"
)

// builder makes the archives of a list of targets.
type builder struct {
	root string // the repository
	out  string // the archives: bin/images
	work string // binaries, input keys and scratch files: bin/.build/images
	// vars are hack/versions.env, overridden by the environment, plus IMAGE_TAG.
	vars map[string]string
	log  *slog.Logger
}

func newBuilder(root string, log *slog.Logger) (*builder, error) {
	vars, err := readVersions(filepath.Join(root, "hack", "versions.env"))
	if err != nil {
		return nil, err
	}
	vars["IMAGE_TAG"] = defaultImageTag
	vars["RELEASE_VERSION"] = ""
	for k := range vars {
		if v := os.Getenv(k); v != "" {
			vars[k] = v
		}
	}
	if r := vars["RELEASE_VERSION"]; r != "" && os.Getenv("IMAGE_TAG") == "" {
		vars["IMAGE_TAG"] = r // a release tags its images with its version
	}
	return &builder{
		root: root,
		out:  filepath.Join(root, "bin", "images"),
		work: filepath.Join(root, "bin", ".build", "images"),
		vars: vars,
		log:  log,
	}, nil
}

// readVersions reads the KEY=VALUE lines of hack/versions.env (a file both make and bash read).
func readVersions(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			vars[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return vars, sc.Err()
}

// outcome of one target.
type outcome int

const (
	built outcome = iota
	upToDate
	skipped
	failed
)

// build makes the archives of targets whose inputs changed, skipping (with a warning) those
// whose inputs are not there yet. It fails if any image fails.
func (b *builder) build(ctx context.Context, targets []target) error {
	for _, dir := range []string{b.out, b.work} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	var errs []error
	bins, missing, err := b.buildPrograms(ctx, targets)
	if err != nil {
		// The images that need no program of this module (mailpit, coredns, rabbitmq) can
		// still be made; the failure is reported at the end.
		errs = append(errs, err)
	}
	counts := map[outcome]int{}
	for _, t := range targets {
		if reason, ok := missing[t.short]; ok {
			b.log.Warn("skipped", "image", t.short, "reason", reason)
			counts[skipped]++
			continue
		}
		if t.pkg != "" && bins[t.short] == "" {
			b.log.Error("failed", "image", t.short, "err", "its program did not build")
			counts[failed]++
			continue
		}
		o, err := b.buildOne(ctx, t, bins[t.short])
		var skip skipError
		switch {
		case errors.As(err, &skip):
			b.log.Warn("skipped", "image", t.short, "reason", skip.reason)
			o = skipped
		case err != nil:
			b.log.Error("failed", "image", t.short, "err", err)
			errs = append(errs, fmt.Errorf("%s: %w", t.short, err))
			o = failed
		}
		counts[o]++
	}
	b.log.Info("images done", "dir", b.rel(b.out), "built", counts[built], "up_to_date", counts[upToDate],
		"skipped", counts[skipped], "failed", counts[failed])
	return errors.Join(errs...)
}

func (b *builder) archive(short string) string { return filepath.Join(b.out, short+".tar") }

// keyFile holds the input key of the archive last written for short.
func (b *builder) keyFile(short string) string { return filepath.Join(b.work, short+".inputs") }

func (b *builder) buildOne(ctx context.Context, t target, bin string) (outcome, error) {
	start := time.Now()
	archive := b.archive(t.short)
	_, statErr := os.Stat(archive)
	exists := statErr == nil
	if t.onlyWhenMissing && exists {
		b.log.Info("up to date", "image", t.short, "why", "the archive exists; delete it to rebuild")
		return upToDate, nil
	}
	spec, err := t.spec(ctx, b, bin)
	if err != nil {
		return skipped, err
	}
	var key string
	if !t.onlyWhenMissing {
		if key, err = spec.InputKey(); err != nil {
			return skipped, err
		}
		if old, err := os.ReadFile(b.keyFile(t.short)); err == nil && exists && strings.TrimSpace(string(old)) == key {
			b.log.Info("up to date", "image", t.short, "name", spec.Name+":"+spec.Tag)
			return upToDate, nil
		}
	}
	scratch, err := os.MkdirTemp(b.work, t.short+"-")
	if err != nil {
		return skipped, err
	}
	defer func() { _ = os.RemoveAll(scratch) }()
	img, err := spec.Image(scratch, b.log)
	if err != nil {
		return skipped, err
	}
	// A stale key must not outlive the archive it described, whatever happens next.
	_ = os.Remove(b.keyFile(t.short))
	if err := imagebuild.WriteArchive(archive, img, spec.Name, spec.Tag); err != nil {
		return skipped, err
	}
	if key != "" {
		if err := os.WriteFile(b.keyFile(t.short), []byte(key+"\n"), 0o644); err != nil {
			return skipped, err
		}
	}
	digest, err := img.Digest()
	if err != nil {
		return skipped, err
	}
	st, err := os.Stat(archive)
	if err != nil {
		return skipped, err
	}
	b.log.Info("built", "image", t.short, "name", spec.Name+":"+spec.Tag, "digest", digest.String(),
		"archive", b.rel(archive), "mib", fmt.Sprintf("%.1f", float64(st.Size())/(1<<20)),
		"seconds", fmt.Sprintf("%.1f", time.Since(start).Seconds()))
	return built, nil
}

// command runs a program with the builder's output streams (go build and the scripts print
// only progress and errors) and extra environment.
func (b *builder) command(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

// rel shortens a path under the repository for messages.
func (b *builder) rel(p string) string {
	if r, err := filepath.Rel(b.root, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}
