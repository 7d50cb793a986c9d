// Command images builds the container images of the single-node cluster without a container
// engine (`make images`), and pushes them to a registry of your choice.
//
//	go run ./hack/images build [name...]   # every image when none is named
//	go run ./hack/images push --registry host[:port][/path] [--insecure] [name...]
//
// The images (bin/images/<name>.tar, all linux/amd64, listed in catalog.go):
//
//	manager backend auth notifier  the Dockerfile's image of ./cmd/<name>: littleecom/<name>:$IMAGE_TAG (0.1.0)
//	ferretdb  ./cmd/ferretdb, data in the volume /data           littleecom/ferretdb:<FerretDB version in go.mod>
//	mailpit   Mailpit from its Go module; SMTP :1025, HTTP :8025  littleecom/mailpit:$MAILPIT_VERSION
//	pause     ./hack/cluster/pause                               littleecom/pause:3.10
//	coredns   bin/node/coredns-$COREDNS_VERSION/coredns          littleecom/coredns:$COREDNS_VERSION
//	netcheck  ./e2e/cluster/netcheck (an e2e helper)             littleecom/netcheck:0.1.0
//	rabbitmq  the root file system of hack/rabbitmq-image.sh      littleecom/rabbitmq:<its version file>
//
// Every binary image is static and has no shell: a base layer (the CA bundle and /tmp with
// mode 1777, the same in all of them) and the binary, run as 65532:65532. An image whose
// input is not there yet (another make target or change brings it) is skipped with a warning.
//
// # Caching
//
// Programs are built by `go build` into bin/.build/images/bin, which relinks nothing that is
// up to date. An image's input key (a hash of its files' contents and metadata, its config and
// the assembly's version) is kept in bin/.build/images/<name>.inputs; the archive is written
// again only when the key changes or the archive is gone. The rabbitmq archive is made only
// when it is missing (hashing a root file system on every run would cost more than it saves):
// delete it to rebuild.
//
// # Formats
//
// An archive is an OCI image layout (image-spec v1.1) packed in a tar, as `docker save` 25+ and
// BuildKit's OCI exporter write it: oci-layout, index.json and blobs/sha256/<hex>. The
// manifest, config and gzip layers use OCI media types. index.json lists one linux/amd64
// manifest with two annotations:
//
//   - io.containerd.image.name: the full name, normalised as the kubelet (CRI) looks images up
//     (littleecom/manager:0.1.0 gains the implicit default registry). `ctr -n k8s.io images
//     import` (containerd 1.6) names the image with it verbatim, so pods find it without a pull.
//   - org.opencontainers.image.ref.name: the tag, as the image spec intends.
//
// Layers are reproducible: entries sorted by path, every mtime the Unix epoch, numeric owners
// only, gzip without a timestamp; the image's created time is the epoch too. The same inputs
// give the same digests, so containerd and registries share the common base layer.
//
// push unpacks an archive as an OCI layout and writes it with go-containerregistry's remote
// package, credentials from the default keychain (~/.docker/config.json and its helpers); an
// image littleecom/x:t goes to <registry>/littleecom/x:t with the archive's digests.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, os.Args[1:], log); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			log.Error("images", "err", err)
		}
		stop()
		os.Exit(1)
	}
}

const usage = `usage:
  go run ./hack/images build [name...]
  go run ./hack/images push --registry host[:port][/path] [--insecure] [name...]`

func run(ctx context.Context, args []string, log *slog.Logger) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	root, err := findRoot()
	if err != nil {
		return err
	}
	b, err := newBuilder(root, log)
	if err != nil {
		return err
	}
	switch args[0] {
	case "build":
		targets, err := selectTargets(catalog(), args[1:])
		if err != nil {
			return err
		}
		return b.build(ctx, targets)
	case "push":
		return runPush(ctx, b, args[1:], log)
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
}

func runPush(ctx context.Context, b *builder, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	p := pusher{log: log}
	fs.StringVar(&p.registry, "registry", "", "registry and optional path prefix to push to: host[:port][/path]")
	fs.BoolVar(&p.insecure, "insecure", false, "allow plain HTTP to the registry")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w\n%s", err, usage)
	}
	var archives []string
	if fs.NArg() == 0 {
		all, err := filepath.Glob(filepath.Join(b.out, "*.tar"))
		if err != nil {
			return err
		}
		if len(all) == 0 {
			return fmt.Errorf("no archives in %s: run `make images` first", b.rel(b.out))
		}
		archives = all
	}
	for _, n := range fs.Args() {
		a := b.archive(n)
		if _, err := os.Stat(a); err != nil {
			return fmt.Errorf("image %q: %w (run `make images` first)", n, err)
		}
		archives = append(archives, a)
	}
	return p.push(ctx, archives)
}

// selectTargets returns the named targets in catalog order, or all of them.
func selectTargets(all []target, names []string) ([]target, error) {
	if len(names) == 0 {
		return all, nil
	}
	known := make([]string, 0, len(all))
	for _, t := range all {
		known = append(known, t.short)
	}
	for _, n := range names {
		if !slices.Contains(known, n) {
			return nil, fmt.Errorf("unknown image %q (images: %v)", n, known)
		}
	}
	var sel []target
	for _, t := range all {
		if slices.Contains(names, t.short) {
			sel = append(sel, t)
		}
	}
	return sel, nil
}

// findRoot walks up from the working directory to the repository root (the directory with
// go.mod and hack/versions.env), so that the tool runs from anywhere inside the repository.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "hack", "versions.env")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the repository (no go.mod with hack/versions.env above the working directory)")
		}
		dir = parent
	}
}
