package imagebuild

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// keyVersion changes when the way images are assembled changes, so that a new tool rebuilds
// archives whose inputs are otherwise the same.
const keyVersion = 1

// Spec is everything one image is made of.
type Spec struct {
	// Name is the repository without a registry host, e.g. littleecom/manager.
	Name string
	Tag  string
	// Layers, bottom first.
	Layers []LayerSpec
	// Config is the runtime configuration: entrypoint, user, environment, volumes, ports.
	Config v1.Config
}

// LayerSpec is one layer: either a list of files or a directory tree.
type LayerSpec struct {
	// CreatedBy says what the layer holds; it becomes the layer's history entry.
	CreatedBy string
	Files     []Entry
	// Rootfs is a directory packed whole with RootfsLayer.
	Rootfs string
}

// Image assembles the linux/amd64 image with OCI media types. Rootfs layers are packed into
// files under work (which the caller removes once the archive is written).
func (s Spec) Image(work string, log *slog.Logger) (v1.Image, error) {
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	adds := make([]mutate.Addendum, 0, len(s.Layers))
	for i, ls := range s.Layers {
		layer, err := ls.layer(filepath.Join(work, fmt.Sprintf("%s-layer%d.tar.gz", filepath.Base(s.Name), i)), log)
		if err != nil {
			return nil, fmt.Errorf("%s layer %d (%s): %w", s.Name, i, ls.CreatedBy, err)
		}
		adds = append(adds, mutate.Addendum{
			Layer:     layer,
			MediaType: types.OCILayer,
			History:   v1.History{Created: v1.Time{Time: Epoch}, CreatedBy: ls.CreatedBy},
		})
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Created = v1.Time{Time: Epoch}
	cf.Config = s.Config
	return mutate.ConfigFile(img, cf)
}

func (ls LayerSpec) layer(out string, log *slog.Logger) (v1.Layer, error) {
	if ls.Rootfs == "" {
		return FilesLayer(ls.Files)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, err
	}
	layer, stats, err := RootfsLayer(ls.Rootfs, out)
	if err == nil {
		log.Info("packed a root file system", "dir", ls.Rootfs, "entries", stats.Files,
			"left_out", stats.Skipped, "why_left_out", "device nodes, fifos and sockets: the runtime provides /dev")
	}
	return layer, err
}

// InputKey hashes everything the image is made of (names, config, each file's metadata and
// content), so that an unchanged key means an unchanged image. Directory-tree layers are
// not hashed (too costly): a caller caches those images by other means.
func (s Spec) InputKey() (string, error) {
	type file struct {
		Entry
		SHA256 string
	}
	type layer struct {
		CreatedBy string
		Files     []file
		Rootfs    bool
	}
	in := struct {
		Version   int
		Name, Tag string
		Config    v1.Config
		Layers    []layer
	}{Version: keyVersion, Name: s.Name, Tag: s.Tag, Config: s.Config}
	for _, ls := range s.Layers {
		if ls.Rootfs != "" {
			return "", fmt.Errorf("%s: a directory-tree layer has no input key", s.Name)
		}
		l := layer{CreatedBy: ls.CreatedBy}
		for _, e := range ls.Files {
			f := file{Entry: e}
			if e.Mode&fs.ModeType == 0 {
				sum, err := fileSHA256(e.Source)
				if err != nil {
					return "", err
				}
				f.SHA256 = sum
			}
			f.Source = "" // where a file comes from does not change the image
			l.Files = append(l.Files, f)
		}
		in.Layers = append(in.Layers, l)
	}
	b, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", sha256.Sum256(b)), nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}
