package main

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"littleecom.io/littleecom/hack/images/imagebuild"
)

// Tags that no version variable carries (the contract in docs/cluster.md names them).
const (
	pauseTag    = "3.10"
	netcheckTag = "0.1.0"
	// defaultImageTag is the services' and the manager's tag unless IMAGE_TAG says otherwise.
	defaultImageTag = "0.1.0"
)

// target is one image of the catalog.
type target struct {
	// short names the archive, bin/images/<short>.tar, and the image on the command line.
	short string
	// pkg is the main-module package whose binary the image carries ("" when the image
	// brings its own input); all of them are built by one `go build`.
	pkg string
	// onlyWhenMissing: the archive is made only when absent, because its input (a whole
	// root file system) is too costly to hash on every run.
	onlyWhenMissing bool
	// spec describes the image; bin is pkg's binary. A skipError means "not here yet".
	spec func(ctx context.Context, b *builder, bin string) (imagebuild.Spec, error)
}

// skipError says why an image cannot be built yet (its input comes from another change
// or another make target); the build goes on with the others.
type skipError struct{ reason string }

func (e skipError) Error() string { return e.reason }

func catalog() []target {
	return []target{
		program("manager"),
		program("backend"),
		program("auth"),
		program("notifier"),
		{short: "ferretdb", pkg: "./cmd/ferretdb", spec: ferretdbSpec},
		{short: "mailpit", spec: mailpitSpec},
		{short: "pause", pkg: "./hack/cluster/pause", spec: func(_ context.Context, _ *builder, bin string) (imagebuild.Spec, error) {
			return imagebuild.Program("littleecom/pause", pauseTag, bin, "/pause"), nil
		}},
		{short: "coredns", spec: corednsSpec},
		{short: "netcheck", pkg: "./e2e/cluster/netcheck", spec: func(_ context.Context, _ *builder, bin string) (imagebuild.Spec, error) {
			return imagebuild.Program("littleecom/netcheck", netcheckTag, bin, "/netcheck"), nil
		}},
		{short: "rabbitmq", onlyWhenMissing: true, spec: rabbitmqSpec},
	}
}

// program is the Dockerfile's image of ./cmd/<name>.
func program(name string) target {
	return target{short: name, pkg: "./cmd/" + name, spec: func(_ context.Context, b *builder, bin string) (imagebuild.Spec, error) {
		return imagebuild.Program("littleecom/"+name, b.vars["IMAGE_TAG"], bin, "/app"), nil
	}}
}

// ferretdbDataDir is the ferretdb image's data volume, owned by the user it runs as.
const ferretdbDataDir = "/data"

// ferretdbSpec tags the image with the FerretDB release compiled into the binary (go.mod's).
func ferretdbSpec(_ context.Context, _ *builder, bin string) (imagebuild.Spec, error) {
	tag, err := moduleVersion(bin, "github.com/FerretDB/FerretDB")
	if err != nil {
		return imagebuild.Spec{}, err
	}
	s := imagebuild.Program("littleecom/ferretdb", tag, bin, "/app")
	s.Layers[1].Files = append(s.Layers[1].Files, imagebuild.Entry{
		Path: ferretdbDataDir, Mode: fs.ModeDir | 0o750, UID: imagebuild.NonRootID, GID: imagebuild.NonRootID,
	})
	s.Config.Cmd = []string{"-listen=0.0.0.0:27017", "-data=" + ferretdbDataDir}
	s.Config.Volumes = map[string]struct{}{ferretdbDataDir: {}}
	s.Config.ExposedPorts = map[string]struct{}{"27017/tcp": {}}
	return s, nil
}

func moduleVersion(bin, module string) (string, error) {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "", fmt.Errorf("%s: %w", bin, err)
	}
	for _, d := range info.Deps {
		if d.Path == module {
			return d.Version, nil
		}
	}
	return "", fmt.Errorf("%s was not built with %s", bin, module)
}

// mailpitSpec: SMTP on 1025 and the web UI and API on 8025, both on every address and
// without authentication (any SMTP credentials are accepted, so a client configured with
// some still delivers). Mail lives in a SQLite file under /tmp that Mailpit removes on exit.
func mailpitSpec(ctx context.Context, b *builder, _ string) (imagebuild.Spec, error) {
	bin, err := b.buildMailpit(ctx)
	if err != nil {
		return imagebuild.Spec{}, err
	}
	s := imagebuild.Program("littleecom/mailpit", b.vars["MAILPIT_VERSION"], bin, "/mailpit")
	s.Config.Entrypoint = append(s.Config.Entrypoint,
		"--smtp=0.0.0.0:1025", "--listen=0.0.0.0:8025",
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
		"--disable-version-check") // no internet here; nor in most clusters
	s.Config.ExposedPorts = map[string]struct{}{"1025/tcp": {}, "8025/tcp": {}}
	return s, nil
}

// netBindServiceCap is a security.capability attribute (VFS_CAP_REVISION_2, effective)
// granting cap_net_bind_service, as upstream's `setcap cap_net_bind_service=+ep /coredns`:
// CoreDNS runs as a non-root user yet binds port 53, also under no_new_privs.
const netBindServiceCap = "\x01\x00\x00\x02" + "\x00\x04\x00\x00" + "\x00\x00\x00\x00" + "\x00\x00\x00\x00" + "\x00\x00\x00\x00"

// corednsSpec packages the CoreDNS binary that hack/build-node.sh builds.
func corednsSpec(_ context.Context, b *builder, _ string) (imagebuild.Spec, error) {
	version := b.vars["COREDNS_VERSION"]
	bin := filepath.Join(b.root, "bin", "node", "coredns-"+version, "coredns")
	if _, err := os.Stat(bin); err != nil {
		return imagebuild.Spec{}, skipError{fmt.Sprintf("%s is absent: hack/build-node.sh builds it", b.rel(bin))}
	}
	if err := imagebuild.CheckStatic(bin); err != nil {
		return imagebuild.Spec{}, err
	}
	s := imagebuild.Program("littleecom/coredns", version, bin, "/coredns")
	s.Layers[1].Files[0].Xattrs = map[string]string{"security.capability": netBindServiceCap}
	s.Config.ExposedPorts = map[string]struct{}{"53/tcp": {}, "53/udp": {}}
	return s, nil
}

// rabbitmqSpec runs hack/rabbitmq-image.sh, which makes a Debian root file system with
// rabbitmq-server and its image configuration, and packs that tree as the one layer.
func rabbitmqSpec(ctx context.Context, b *builder, _ string) (imagebuild.Spec, error) {
	script := filepath.Join(b.root, "hack", "rabbitmq-image.sh")
	if _, err := os.Stat(script); err != nil {
		return imagebuild.Spec{}, skipError{b.rel(script) + " is absent (another change adds it)"}
	}
	dir := filepath.Join(b.root, "bin", ".build", "rabbitmq-image")
	b.log.Info("making the RabbitMQ root file system (first run takes minutes)", "script", b.rel(script), "dir", b.rel(dir))
	if err := b.command(ctx, b.root, nil, script, dir); err != nil {
		return imagebuild.Spec{}, err
	}
	cfg, version, err := readRootfsImage(dir)
	if err != nil {
		return imagebuild.Spec{}, err
	}
	return imagebuild.Spec{
		Name: "littleecom/rabbitmq",
		Tag:  version,
		Layers: []imagebuild.LayerSpec{{
			CreatedBy: "Debian root file system with rabbitmq-server (hack/rabbitmq-image.sh)",
			Rootfs:    filepath.Join(dir, "rootfs"),
		}},
		Config: cfg,
	}, nil
}

// readRootfsImage reads what hack/rabbitmq-image.sh leaves beside the root file system:
// config.json (an OCI image configuration's "config" object) and version.
func readRootfsImage(dir string) (v1.Config, string, error) {
	var cfg v1.Config
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return cfg, "", err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // a misspelt field would silently drop a setting
	if err := dec.Decode(&cfg); err != nil {
		return cfg, "", fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
	}
	v, err := os.ReadFile(filepath.Join(dir, "version"))
	if err != nil {
		return cfg, "", err
	}
	version := string(bytes.TrimSpace(v))
	if version == "" {
		return cfg, "", fmt.Errorf("%s is empty", filepath.Join(dir, "version"))
	}
	if _, err := os.Stat(filepath.Join(dir, "rootfs", "etc")); err != nil {
		return cfg, "", fmt.Errorf("%s does not look like a root file system: %w", filepath.Join(dir, "rootfs"), err)
	}
	return cfg, version, nil
}
