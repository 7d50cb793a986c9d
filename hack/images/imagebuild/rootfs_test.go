package imagebuild

import (
	"archive/tar"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// makeRootfs lays out a small tree with what a Debian root file system has: a setuid
// program, a sticky directory, a symlink, a hard link, files of a service user, a fifo.
func makeRootfs(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "var/lib/rabbitmq"), 0o755))
	must(os.Mkdir(filepath.Join(root, "tmp"), 0o777))
	must(os.Chmod(filepath.Join(root, "tmp"), os.ModeSticky|0o777))
	must(os.WriteFile(filepath.Join(root, "usr/bin/su"), []byte("su"), 0o755))
	must(os.Chmod(filepath.Join(root, "usr/bin/su"), os.ModeSetuid|0o755))
	must(os.WriteFile(filepath.Join(root, "usr/bin/erl"), []byte("erl"), 0o755))
	must(os.Link(filepath.Join(root, "usr/bin/erl"), filepath.Join(root, "usr/bin/erl.alias")))
	must(os.Symlink("usr/bin", filepath.Join(root, "bin")))
	must(os.WriteFile(filepath.Join(root, "var/lib/rabbitmq/.erlang.cookie"), []byte("c"), 0o400))
	must(syscall.Mkfifo(filepath.Join(root, "tmp/fifo"), 0o600))
	if os.Geteuid() == 0 {
		must(os.Lchown(filepath.Join(root, "var/lib/rabbitmq"), 999, 999))
		must(os.Lchown(filepath.Join(root, "var/lib/rabbitmq/.erlang.cookie"), 999, 999))
	}
	return root
}

func TestRootfsLayer_KeepsModesOwnersAndLinks(t *testing.T) {
	root := makeRootfs(t)
	// File capabilities need root and a file system with xattrs; check them where possible.
	wantCap := unix.Lsetxattr(filepath.Join(root, "usr/bin/su"), capabilityXattr, []byte(netRawCap), 0) == nil

	layer, stats, err := RootfsLayer(root, filepath.Join(t.TempDir(), "layer.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if stats.Skipped != 1 {
		t.Errorf("left out %d entries, want 1 (the fifo)", stats.Skipped)
	}
	files := map[string]*tar.Header{}
	var order []string
	for _, f := range layerFiles(t, layer) {
		files[f.hdr.Name] = f.hdr
		order = append(order, f.hdr.Name)
		if !f.hdr.ModTime.Equal(Epoch) {
			t.Errorf("%s: mtime %v, want the epoch", f.hdr.Name, f.hdr.ModTime)
		}
	}
	if h := files["usr/bin/su"]; h == nil || h.Mode != 0o4755 {
		t.Errorf("setuid program: %+v, want mode 4755", h)
	}
	if h := files["tmp/"]; h == nil || h.Mode != 0o1777 {
		t.Errorf("/tmp: %+v, want mode 1777", h)
	}
	if h := files["bin"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "usr/bin" {
		t.Errorf("bin: %+v, want a symlink to usr/bin", h)
	}
	erl, alias := files["usr/bin/erl"], files["usr/bin/erl.alias"]
	if erl == nil || erl.Typeflag != tar.TypeReg || alias == nil || alias.Typeflag != tar.TypeLink || alias.Linkname != "usr/bin/erl" {
		t.Errorf("hard links: erl %+v, alias %+v; want a file and a link to it", erl, alias)
	}
	if _, ok := files["tmp/fifo"]; ok {
		t.Error("the fifo was packed")
	}
	if os.Geteuid() == 0 {
		if h := files["var/lib/rabbitmq/.erlang.cookie"]; h == nil || h.Uid != 999 || h.Gid != 999 || h.Mode != 0o400 {
			t.Errorf("cookie: %+v, want 999:999 mode 0400", h)
		}
	}
	if wantCap {
		if h := files["usr/bin/su"]; h.PAXRecords["SCHILY.xattr."+capabilityXattr] != netRawCap {
			t.Errorf("su: PAX records %q, want its file capability", h.PAXRecords)
		}
	}
	// Parents come before their children (the order WalkDir gives).
	if pos := slices.Index(order, "usr/"); pos < 0 || pos > slices.Index(order, "usr/bin/") {
		t.Errorf("entry order %q: a directory after its contents", order)
	}

	again, _, err := RootfsLayer(root, filepath.Join(t.TempDir(), "layer.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := layer.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("two packings of one tree: %s and %s", d1, d2)
	}
}

// netRawCap is cap_net_raw=ep, as Debian's ping carries.
const netRawCap = "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
