package imagebuild

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// capabilityXattr is the one extended attribute a root file system carries that matters to
// a container: file capabilities (e.g. a ping binary's cap_net_raw).
const capabilityXattr = "security.capability"

// RootfsStats counts what RootfsLayer left out: device nodes, fifos and sockets, which a
// container runtime provides itself (/dev is a fresh tmpfs in every container).
type RootfsStats struct {
	Files, Skipped int
}

// RootfsLayer packs the directory tree dir into the gzip tar file out and returns it as a
// layer. It keeps modes (setuid and sticky bits included), numeric owners, symlinks, hard
// links and file capabilities; times are fixed and entries come in WalkDir's lexical order.
func RootfsLayer(dir, out string) (v1.Layer, RootfsStats, error) {
	var stats RootfsStats
	f, err := os.Create(out)
	if err != nil {
		return nil, stats, err
	}
	lw := newLayerWriter(f)
	w := rootfsWriter{tw: lw.tw, root: dir, links: map[[2]uint64]string{}, stats: &stats}
	walkErr := filepath.WalkDir(dir, w.add)
	layer, finishErr := lw.finish(func() (io.ReadCloser, error) { return os.Open(out) })
	if err := errors.Join(walkErr, finishErr, f.Close()); err != nil {
		_ = os.Remove(out)
		return nil, stats, fmt.Errorf("packing %s: %w", dir, err)
	}
	return layer, stats, nil
}

type rootfsWriter struct {
	tw    *tar.Writer
	root  string
	links map[[2]uint64]string // (device, inode) of a multiply linked file -> its first name
	stats *RootfsStats
}

func (w rootfsWriter) add(p string, d fs.DirEntry, err error) error {
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(w.root, p)
	if err != nil || rel == "." {
		return err
	}
	info, err := d.Info()
	if err != nil {
		return err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no owner information", p)
	}
	mode := info.Mode()
	if mode&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket) != 0 {
		w.stats.Skipped++
		return nil
	}
	h := header(filepath.ToSlash(rel), mode, int(st.Uid), int(st.Gid))
	switch {
	case mode&fs.ModeSymlink != 0:
		if h.Linkname, err = os.Readlink(p); err != nil {
			return err
		}
	case mode.IsRegular():
		id := [2]uint64{st.Dev, st.Ino}
		if first, seen := w.links[id]; seen {
			h.Typeflag, h.Linkname = tar.TypeLink, first
			break
		}
		if st.Nlink > 1 {
			w.links[id] = h.Name
		}
		h.Size = info.Size()
		if err := w.addCapability(p, h); err != nil {
			return err
		}
	}
	w.stats.Files++
	if err := w.tw.WriteHeader(h); err != nil {
		return err
	}
	if h.Typeflag != tar.TypeReg {
		return nil
	}
	return copyFile(w.tw, p, h.Size)
}

func (w rootfsWriter) addCapability(p string, h *tar.Header) error {
	buf := make([]byte, 64)
	n, err := unix.Lgetxattr(p, capabilityXattr, buf)
	switch {
	case errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP):
		return nil
	case err != nil:
		return fmt.Errorf("%s: reading %s: %w", p, capabilityXattr, err)
	}
	h.PAXRecords = map[string]string{"SCHILY.xattr." + capabilityXattr: string(buf[:n])}
	return nil
}

func copyFile(w io.Writer, p string, size int64) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	if n, err := io.Copy(w, f); err != nil || n != size {
		return errors.Join(fmt.Errorf("%s: copied %d of %d bytes (did it change while packing?)", p, n, size), err)
	}
	return nil
}
