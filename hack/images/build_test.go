package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"littleecom.io/littleecom/hack/images/imagebuild"
)

// testBuilder is a builder over a scratch repository with a versions file.
func testBuilder(t *testing.T) *builder {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "hack"), 0o755); err != nil {
		t.Fatal(err)
	}
	versions := "# pinned\nCOREDNS_VERSION=v9.9.9\nMAILPIT_VERSION=\"v1.2.3\"\n"
	if err := os.WriteFile(filepath.Join(root, "hack", "versions.env"), []byte(versions), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := newBuilder(root, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{b.out, b.work} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// fileTarget is an image of one small file standing in for a program (no go build).
func fileTarget(t *testing.T, content string) (target, string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "prog")
	if err := os.WriteFile(bin, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	return target{short: "prog", spec: func(context.Context, *builder, string) (imagebuild.Spec, error) {
		return imagebuild.Program("littleecom/prog", "0.1.0", bin, "/app"), nil
	}}, bin
}

func TestNewBuilder_ReadsVersionsAndDefaults(t *testing.T) {
	t.Setenv("COREDNS_VERSION", "v1.0.0")
	b := testBuilder(t)
	want := map[string]string{"COREDNS_VERSION": "v1.0.0", "MAILPIT_VERSION": "v1.2.3", "IMAGE_TAG": defaultImageTag}
	for k, v := range want {
		if b.vars[k] != v {
			t.Errorf("%s = %q, want %q (the environment overrides the file)", k, b.vars[k], v)
		}
	}
}

func TestBuildOne_RebuildsOnlyWhenInputsChange(t *testing.T) {
	b := testBuilder(t)
	tg, bin := fileTarget(t, "v1")
	ctx := context.Background()
	step := func(want outcome) {
		t.Helper()
		got, err := b.buildOne(ctx, tg, "")
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("outcome %v, want %v", got, want)
		}
	}
	step(built)
	first, err := os.Stat(b.archive("prog"))
	if err != nil {
		t.Fatal(err)
	}
	step(upToDate)
	// Touching the binary changes nothing; its content does.
	if err := os.Chtimes(bin, time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	step(upToDate)
	if again, _ := os.Stat(b.archive("prog")); !again.ModTime().Equal(first.ModTime()) {
		t.Error("an up-to-date archive was written again")
	}
	if err := os.WriteFile(bin, []byte("v2"), 0o755); err != nil {
		t.Fatal(err)
	}
	step(built)
	if err := os.Remove(b.archive("prog")); err != nil {
		t.Fatal(err)
	}
	step(built)
}

func TestBuild_SkipsImagesWhoseInputsAreNotThereYet(t *testing.T) {
	b := testBuilder(t)
	all := catalog()
	var targets []target
	for _, tg := range all {
		if tg.short == "coredns" || tg.short == "rabbitmq" || tg.short == "pause" {
			targets = append(targets, tg)
		}
	}
	if len(targets) != 3 {
		t.Fatalf("catalog lacks coredns, rabbitmq or pause: %v", targets)
	}
	if err := b.build(context.Background(), targets); err != nil {
		t.Fatalf("build failed instead of skipping: %v", err)
	}
	if entries, _ := os.ReadDir(b.out); len(entries) != 0 {
		t.Errorf("archives written without inputs: %v", entries)
	}
	bins, missing, err := b.buildPrograms(context.Background(), targets)
	if err != nil || len(bins) != 0 || !strings.Contains(missing["pause"], "hack/cluster/pause has no Go files") {
		t.Errorf("buildPrograms = %v, %v, %v; want pause reported missing", bins, missing, err)
	}
	_, err = corednsSpec(context.Background(), b, "")
	if !strings.Contains(err.Error(), "bin/node/coredns-v9.9.9/coredns is absent") {
		t.Errorf("coredns without its binary: %v", err)
	}
}

// fakeRabbitmqScript stands in for hack/rabbitmq-image.sh: a tiny root file system, the
// config and the version; it counts its runs in <root>/runs.
const fakeRabbitmqScript = `#!/usr/bin/env bash
set -euo pipefail
dir=$1
mkdir -p "$dir/rootfs/etc" "$dir/rootfs/var/lib/rabbitmq"
echo rabbit > "$dir/rootfs/etc/hostname"
cat > "$dir/config.json" <<'JSON'
{"Entrypoint": ["rabbitmq-server"], "User": "999:999", "Env": ["HOME=/var/lib/rabbitmq"],
 "WorkingDir": "/var/lib/rabbitmq", "ExposedPorts": {"5672/tcp": {}}, "Volumes": {"/var/lib/rabbitmq": {}}}
JSON
echo 3.10.8 > "$dir/version"
echo run >> "$(dirname "$0")/../runs"
`

func TestRabbitmq_PacksTheScriptsRootfsOnceWhenMissing(t *testing.T) {
	b := testBuilder(t)
	script := filepath.Join(b.root, "hack", "rabbitmq-image.sh")
	if err := os.WriteFile(script, []byte(fakeRabbitmqScript), 0o755); err != nil {
		t.Fatal(err)
	}
	var rabbit target
	for _, tg := range catalog() {
		if tg.short == "rabbitmq" {
			rabbit = tg
		}
	}
	for i, want := range []outcome{built, upToDate} {
		got, err := b.buildOne(context.Background(), rabbit, "")
		if err != nil || got != want {
			t.Fatalf("build %d: %v, %v; want %v", i+1, got, err, want)
		}
	}
	if runs, _ := os.ReadFile(filepath.Join(b.root, "runs")); strings.Count(string(runs), "run") != 1 {
		t.Errorf("the script ran %d times, want once (the archive exists the second time)", strings.Count(string(runs), "run"))
	}

	images, err := imagebuild.ReadArchive(b.archive("rabbitmq"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(images[0].Name, "/littleecom/rabbitmq:3.10.8") {
		t.Errorf("name %q, want littleecom/rabbitmq tagged with the version file", images[0].Name)
	}
	cf, err := images[0].Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "999:999" || !slices.Equal(c.Entrypoint, []string{"rabbitmq-server"}) || c.WorkingDir != "/var/lib/rabbitmq" {
		t.Errorf("config %+v: want the script's config.json", c)
	}
	if _, ok := c.Volumes["/var/lib/rabbitmq"]; !ok {
		t.Errorf("volumes %v: want /var/lib/rabbitmq", c.Volumes)
	}
}

func TestReadRootfsImage_RejectsAMisspeltConfig(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"config.json": `{"Entrypoints": ["x"]}`,
		"version":     "3.10.8\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "rootfs", "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readRootfsImage(dir); err == nil || !strings.Contains(err.Error(), "Entrypoints") {
		t.Errorf("readRootfsImage = %v, want an error naming the unknown field", err)
	}
}

func TestSelectTargets(t *testing.T) {
	all := catalog()
	sel, err := selectTargets(all, []string{"pause", "manager"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sel) != 2 || sel[0].short != "manager" || sel[1].short != "pause" {
		t.Errorf("selected %v, want manager then pause (catalog order)", sel)
	}
	if _, err := selectTargets(all, []string{"nginx"}); err == nil {
		t.Error("an unknown image was accepted")
	}
	if sel, _ := selectTargets(all, nil); len(sel) != len(all) {
		t.Errorf("no names selected %d targets, want all %d", len(sel), len(all))
	}
}

func TestCatalog_MatchesTheImageContract(t *testing.T) {
	var shorts []string
	for _, tg := range catalog() {
		shorts = append(shorts, tg.short)
	}
	want := []string{"manager", "backend", "auth", "notifier", "ferretdb", "mailpit", "pause", "coredns", "netcheck", "rabbitmq"}
	if !slices.Equal(shorts, want) {
		t.Errorf("catalog %q, want %q", shorts, want)
	}
}
