package main

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"littleecom.io/littleecom/hack/images/imagebuild"
)

// The registry is go-containerregistry's in-process one: the real distribution protocol
// (blob uploads, manifests by tag), on 127.0.0.1.
func TestPush_PutsEachArchiveUnderTheRegistryPrefix(t *testing.T) {
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")

	b := testBuilder(t)
	tg, _ := fileTarget(t, "pushed program")
	if _, err := b.buildOne(context.Background(), tg, ""); err != nil {
		t.Fatal(err)
	}
	images, err := imagebuild.ReadArchive(b.archive("prog"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want, err := images[0].Image.Digest()
	if err != nil {
		t.Fatal(err)
	}

	for _, prefix := range []string{host, host + "/team/"} {
		p := pusher{registry: prefix, log: slog.New(slog.DiscardHandler)}
		if err := p.push(context.Background(), []string{b.archive("prog")}); err != nil {
			t.Fatalf("push to %s: %v", prefix, err)
		}
		ref, err := name.ParseReference(strings.TrimSuffix(prefix, "/") + "/littleecom/prog:0.1.0")
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Get(ref)
		if err != nil {
			t.Fatalf("%s after the push: %v", ref, err)
		}
		if desc.Digest != want {
			t.Errorf("%s has digest %s, want the archive's %s", ref, desc.Digest, want)
		}
		img, err := desc.Image()
		if err != nil {
			t.Fatal(err)
		}
		if layers, err := img.Layers(); err != nil || len(layers) != 2 {
			t.Errorf("%s: %d layers, %v; want the base and the program", ref, len(layers), err)
		}
	}
}

func TestPush_RejectsAURLAndMissingArchives(t *testing.T) {
	p := pusher{registry: "http://127.0.0.1:5000", log: slog.New(slog.DiscardHandler)}
	if err := p.push(context.Background(), nil); err == nil {
		t.Error("a registry given as a URL was accepted")
	}
	b := testBuilder(t)
	if err := runPush(context.Background(), b, []string{"--registry", "127.0.0.1:1", "nothing"}, p.log); err == nil {
		t.Error("pushing an image that was never built did not fail")
	}
	if err := os.WriteFile(filepath.Join(b.out, "junk.tar"), []byte("not a tar"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runPush(context.Background(), b, []string{"--registry", "127.0.0.1:1"}, p.log); err == nil {
		t.Error("pushing a broken archive did not fail")
	}
}

func TestModuleVersion_ReadsTheBinarysBuildInfo(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if v, err := moduleVersion(self, "github.com/google/go-containerregistry"); err != nil || !strings.HasPrefix(v, "v0.") {
		t.Errorf("moduleVersion(test binary, go-containerregistry) = %q, %v", v, err)
	}
	if _, err := moduleVersion(self, "example.com/not-a-dependency"); err == nil {
		t.Error("a module the binary does not contain has a version")
	}
}
