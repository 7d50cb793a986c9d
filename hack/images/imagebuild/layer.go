package imagebuild

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Epoch is the modification time of every layer entry and the creation time of every image:
// fixed, so that the same inputs give the same digests.
var Epoch = time.Unix(0, 0).UTC()

// Entry is one file or directory of a layer made from a list of files.
type Entry struct {
	// Path is absolute in the image, e.g. /etc/ssl/certs/ca-certificates.crt.
	Path string
	// Mode holds the permission bits plus fs.ModeDir, fs.ModeSticky, fs.ModeSetuid, ...
	Mode     fs.FileMode
	UID, GID int
	// Source is the host file a regular file's content is read from.
	Source string
	// Xattrs are extended attributes, e.g. security.capability.
	Xattrs map[string]string
}

// packedLayer is a gzip tar whose digests were computed while it was written, so that
// go-containerregistry need not read it again to learn them.
type packedLayer struct {
	open           func() (io.ReadCloser, error)
	digest, diffID v1.Hash
	size           int64
}

var _ v1.Layer = (*packedLayer)(nil)

func (l *packedLayer) Digest() (v1.Hash, error)             { return l.digest, nil }
func (l *packedLayer) DiffID() (v1.Hash, error)             { return l.diffID, nil }
func (l *packedLayer) Compressed() (io.ReadCloser, error)   { return l.open() }
func (l *packedLayer) Size() (int64, error)                 { return l.size, nil }
func (l *packedLayer) MediaType() (types.MediaType, error)  { return types.OCILayer, nil }
func (l *packedLayer) Uncompressed() (io.ReadCloser, error) { return gunzip(l.open) }

// gunzip opens a gzip stream and closes both the reader and the file when done.
func gunzip(open func() (io.ReadCloser, error)) (io.ReadCloser, error) {
	rc, err := open()
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(rc)
	if err != nil {
		_ = rc.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, rc}, nil
}

// layerWriter writes a tar through gzip into w, hashing both streams on the way.
type layerWriter struct {
	tw         *tar.Writer
	zw         *gzip.Writer
	compressed hash.Hash
	plain      hash.Hash
	counter    *countingWriter
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newLayerWriter(w io.Writer) *layerWriter {
	lw := &layerWriter{compressed: sha256.New(), plain: sha256.New()}
	lw.counter = &countingWriter{w: io.MultiWriter(w, lw.compressed)}
	// gzip.Writer leaves the header's time and name empty: the output depends on the input only.
	lw.zw = gzip.NewWriter(lw.counter)
	lw.tw = tar.NewWriter(io.MultiWriter(lw.zw, lw.plain))
	return lw
}

// finish closes the streams and returns the layer's digests, reading it back through open.
func (lw *layerWriter) finish(open func() (io.ReadCloser, error)) (*packedLayer, error) {
	if err := lw.tw.Close(); err != nil {
		return nil, err
	}
	if err := lw.zw.Close(); err != nil {
		return nil, err
	}
	return &packedLayer{
		open:   open,
		digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", lw.compressed.Sum(nil))},
		diffID: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", lw.plain.Sum(nil))},
		size:   lw.counter.n,
	}, nil
}

// header is the tar header of one entry: numeric owners only (the images have no
// /etc/passwd), the fixed time, no user or group names.
func header(name string, mode fs.FileMode, uid, gid int) *tar.Header {
	h := &tar.Header{Name: name, Mode: tarMode(mode), Uid: uid, Gid: gid, ModTime: Epoch}
	switch {
	case mode.IsDir():
		h.Typeflag = tar.TypeDir
		h.Name = strings.TrimSuffix(name, "/") + "/"
	case mode&fs.ModeSymlink != 0:
		h.Typeflag = tar.TypeSymlink
	default:
		h.Typeflag = tar.TypeReg
	}
	return h
}

func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

// FilesLayer packs entries into a layer held in memory. Missing parent directories are added
// (root-owned, 0755) and entries are sorted by path, so the order of the list does not matter.
func FilesLayer(entries []Entry) (v1.Layer, error) {
	all, err := withParents(entries)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	lw := newLayerWriter(&buf)
	for _, e := range all {
		if err := writeEntry(lw.tw, e); err != nil {
			return nil, err
		}
	}
	return lw.finish(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
}

func withParents(entries []Entry) ([]Entry, error) {
	byPath := map[string]Entry{}
	for _, e := range entries {
		if !path.IsAbs(e.Path) || path.Clean(e.Path) != e.Path || e.Path == "/" {
			return nil, fmt.Errorf("layer entry %q: want a clean absolute path below /", e.Path)
		}
		if _, dup := byPath[e.Path]; dup {
			return nil, fmt.Errorf("layer entry %q listed twice", e.Path)
		}
		byPath[e.Path] = e
	}
	for _, e := range entries {
		for dir := path.Dir(e.Path); dir != "/"; dir = path.Dir(dir) {
			if _, ok := byPath[dir]; !ok {
				byPath[dir] = Entry{Path: dir, Mode: fs.ModeDir | 0o755}
			}
		}
	}
	all := make([]Entry, 0, len(byPath))
	for _, e := range byPath {
		all = append(all, e)
	}
	slices.SortFunc(all, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	return all, nil
}

func writeEntry(tw *tar.Writer, e Entry) error {
	h := header(strings.TrimPrefix(e.Path, "/"), e.Mode, e.UID, e.GID)
	for k, v := range e.Xattrs {
		if h.PAXRecords == nil {
			h.PAXRecords = map[string]string{}
		}
		h.PAXRecords["SCHILY.xattr."+k] = v
	}
	if h.Typeflag != tar.TypeReg {
		return tw.WriteHeader(h)
	}
	if e.Source == "" {
		return fmt.Errorf("layer entry %s: a regular file needs a Source", e.Path)
	}
	f, err := os.Open(e.Source)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("layer entry %s: source %s is not a regular file", e.Path, e.Source)
	}
	h.Size = st.Size()
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if n, err := io.Copy(tw, f); err != nil || n != h.Size {
		return errors.Join(fmt.Errorf("layer entry %s: copied %d of %d bytes of %s", e.Path, n, h.Size, e.Source), err)
	}
	return nil
}
