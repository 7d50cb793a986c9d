package imagebuild

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// fakeBinary stands in for a program: the image does not look inside it, and a real build
// would make the tests slow.
func fakeBinary(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "prog")
	if err := os.WriteFile(p, []byte(content), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustImage(t *testing.T, s Spec) v1.Image {
	t.Helper()
	img, err := s.Image(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// file is one tar entry of a layer, with its content.
type file struct {
	hdr  *tar.Header
	data []byte
}

func layerFiles(t *testing.T, l v1.Layer) []file {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	var files []file
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, file{h, data})
	}
}

func imageFiles(t *testing.T, img v1.Image) map[string]file {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]file{}
	for _, l := range layers {
		for _, f := range layerFiles(t, l) {
			all[f.hdr.Name] = f
		}
	}
	return all
}

func TestProgram_ImageHasTheDockerfilesContent(t *testing.T) {
	img := mustImage(t, Program("littleecom/backend", "0.1.0", fakeBinary(t, "the program"), "/app"))

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("platform %s/%s, want linux/amd64", cf.OS, cf.Architecture)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", cf.Config.User)
	}
	if !slices.Equal(cf.Config.Entrypoint, []string{"/app"}) || len(cf.Config.Cmd) != 0 {
		t.Errorf("entrypoint %q cmd %q, want [/app] and no cmd", cf.Config.Entrypoint, cf.Config.Cmd)
	}
	if !cf.Created.Equal(Epoch) {
		t.Errorf("created %v, want the fixed epoch", cf.Created)
	}

	files := imageFiles(t, img)
	var names []string
	for n, f := range files {
		names = append(names, n)
		if f.hdr.Uid != 0 || f.hdr.Gid != 0 || f.hdr.Uname != "" || !f.hdr.ModTime.Equal(Epoch) {
			t.Errorf("%s: owner %d:%d %q, mtime %v; want root, numeric only, the epoch", n, f.hdr.Uid, f.hdr.Gid, f.hdr.Uname, f.hdr.ModTime)
		}
	}
	slices.Sort(names)
	want := []string{"app", "etc/", "etc/ssl/", "etc/ssl/certs/", "etc/ssl/certs/ca-certificates.crt", "tmp/"}
	if !slices.Equal(names, want) {
		t.Fatalf("files %q, want exactly %q (no shell, nothing else)", names, want)
	}
	if h := files["tmp/"].hdr; h.Typeflag != tar.TypeDir || h.Mode != 0o1777 {
		t.Errorf("/tmp: type %c mode %o, want a directory with mode 1777", h.Typeflag, h.Mode)
	}
	if f := files["app"]; f.hdr.Mode != 0o755 || string(f.data) != "the program" {
		t.Errorf("/app: mode %o content %q, want 0755 and the binary", f.hdr.Mode, f.data)
	}
	certs, err := os.ReadFile(HostCACerts)
	if err != nil {
		t.Fatal(err)
	}
	if f := files["etc/ssl/certs/ca-certificates.crt"]; f.hdr.Mode != 0o644 || !bytes.Equal(f.data, certs) {
		t.Errorf("CA bundle: mode %o, %d bytes; want 0644 and the host's %d bytes", f.hdr.Mode, len(f.data), len(certs))
	}
}

func TestProgram_SameInputsGiveTheSameDigest(t *testing.T) {
	// Two copies of the binary, written at different times: only the content counts.
	a, b := fakeBinary(t, "same bytes"), fakeBinary(t, "same bytes")
	if err := os.Chtimes(b, Epoch.AddDate(30, 0, 0), Epoch.AddDate(30, 0, 0)); err != nil {
		t.Fatal(err)
	}
	digest := func(bin string) (v1.Hash, string) {
		s := Program("littleecom/auth", "0.1.0", bin, "/app")
		img := mustImage(t, s)
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		key, err := s.InputKey()
		if err != nil {
			t.Fatal(err)
		}
		return d, key
	}
	d1, k1 := digest(a)
	d2, k2 := digest(b)
	if d1 != d2 || k1 != k2 {
		t.Errorf("digests %s, %s and keys %s, %s: want the same for the same inputs", d1, d2, k1, k2)
	}
	d3, k3 := digest(fakeBinary(t, "other bytes"))
	if d3 == d1 || k3 == k1 {
		t.Error("a different binary gave the same digest or input key")
	}
}

func TestArchive_IsReproducibleAndReadsBack(t *testing.T) {
	s := Program("littleecom/notifier", "0.1.0", fakeBinary(t, "notifier"), "/app")
	dir := t.TempDir()
	var sums [2][32]byte
	for i := range sums {
		p := filepath.Join(dir, "a.tar")
		if err := WriteArchive(p, mustImage(t, s), s.Name, s.Tag); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sums[i] = sha256.Sum256(b)
	}
	if sums[0] != sums[1] {
		t.Error("two archives of the same image differ")
	}

	images, err := ReadArchive(filepath.Join(dir, "a.tar"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want, err := ImageName(s.Name, s.Tag)
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 1 || images[0].Name != want {
		t.Fatalf("read back %d images named %v, want one named %s", len(images), images, want)
	}
	got, err := images[0].Image.Digest()
	if err != nil {
		t.Fatal(err)
	}
	orig, err := mustImage(t, s).Digest()
	if err != nil {
		t.Fatal(err)
	}
	if got != orig {
		t.Errorf("read back digest %s, want %s", got, orig)
	}
}

func TestArchive_IndexNamesTheImage(t *testing.T) {
	s := Program("littleecom/manager", "1.2.3", fakeBinary(t, "x"), "/app")
	p := filepath.Join(t.TempDir(), "a.tar")
	if err := WriteArchive(p, mustImage(t, s), s.Name, s.Tag); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var index []byte
	var names []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name == "index.json" {
			if index, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !slices.Contains(names, "oci-layout") || index == nil {
		t.Fatalf("archive entries %q: want an OCI layout (oci-layout, index.json, blobs)", names)
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(index))
	if err != nil {
		t.Fatal(err)
	}
	d := im.Manifests[0]
	if !strings.HasSuffix(d.Annotations[AnnotationImageName], "/littleecom/manager:1.2.3") ||
		d.Annotations[AnnotationRefName] != "1.2.3" || d.Platform == nil || d.Platform.Architecture != "amd64" {
		t.Errorf("index descriptor %+v: want the full name, the tag as ref name and linux/amd64", d)
	}
}

func TestImageName(t *testing.T) {
	for _, tc := range []struct {
		repo, tag string
		ok        bool
	}{
		{"littleecom/manager", "0.1.0", true},
		{"littleecom/rabbitmq", "3.10.8", true},
		{"littleecom/Manager", "0.1.0", false},  // upper case is not a repository
		{"littleecom/manager", "1.0+b1", false}, // nor "+" a tag
		{"littleecom/manager:x", "0.1.0", false},
	} {
		name, err := ImageName(tc.repo, tc.tag)
		if (err == nil) != tc.ok {
			t.Errorf("ImageName(%q, %q) = %q, %v; want ok=%v", tc.repo, tc.tag, name, err, tc.ok)
		}
		if tc.ok && !strings.HasSuffix(name, "/"+tc.repo+":"+tc.tag) {
			t.Errorf("ImageName(%q, %q) = %q: want the repository and tag under the default registry", tc.repo, tc.tag, name)
		}
	}
}

func TestFilesLayer_RejectsBadEntries(t *testing.T) {
	bin := fakeBinary(t, "x")
	for name, entries := range map[string][]Entry{
		"relative path":    {{Path: "app", Mode: 0o755, Source: bin}},
		"unclean path":     {{Path: "/a/../app", Mode: 0o755, Source: bin}},
		"twice":            {{Path: "/app", Mode: 0o755, Source: bin}, {Path: "/app", Mode: 0o755, Source: bin}},
		"file, no source":  {{Path: "/app", Mode: 0o755}},
		"source not there": {{Path: "/app", Mode: 0o755, Source: bin + ".missing"}},
	} {
		if _, err := FilesLayer(entries); err == nil {
			t.Errorf("%s: FilesLayer accepted %+v", name, entries)
		}
	}
}

func TestCheckStatic(t *testing.T) {
	if err := CheckStatic(fakeBinary(t, "not ELF")); err == nil {
		t.Error("CheckStatic accepted a file that is not ELF")
	}
	// The test binary itself is dynamically linked or not depending on the toolchain's
	// choices; /bin/sh on Debian always is.
	if _, err := os.Stat("/bin/sh"); err == nil {
		if err := CheckStatic("/bin/sh"); err == nil {
			t.Error("CheckStatic accepted /bin/sh, a dynamically linked program")
		}
	}
}
