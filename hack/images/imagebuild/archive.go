package imagebuild

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"github.com/distribution/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Annotations of the manifest descriptor in index.json that name the image.
const (
	// AnnotationImageName is the full name `ctr images import` gives the image (verbatim).
	AnnotationImageName = "io.containerd.image.name"
	// AnnotationRefName is the OCI image layout's name of the manifest: the tag, as the
	// image spec intends and as BuildKit and `docker save` write it.
	AnnotationRefName = "org.opencontainers.image.ref.name"
)

// ImageName is the name of repository:tag as the kubelet asks containerd for it: normalised
// by the same reference library that the CRI uses, so that a short name like
// littleecom/manager:0.1.0 gains the implicit default registry and an image imported under
// it is found without pulling.
func ImageName(repository, tag string) (string, error) {
	named, err := reference.ParseNormalizedNamed(repository + ":" + tag)
	if err != nil {
		return "", fmt.Errorf("image name %s:%s: %w", repository, tag, err)
	}
	if _, ok := named.(reference.NamedTagged); !ok || reference.FamiliarString(named) != repository+":"+tag {
		return "", fmt.Errorf("image name %s:%s: want a repository without registry, digest or tag, and a tag", repository, tag)
	}
	return named.String(), nil
}

// WriteArchive writes img as an OCI image layout packed in a tar (oci-layout, index.json,
// blobs/sha256/...), named repository:tag in index.json's annotations, atomically to path.
// Entries have fixed times, so the same image gives the same archive.
func WriteArchive(path string, img v1.Image, repository, tag string) error {
	name, err := ImageName(repository, tag)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	werr := writeLayout(f, img, name, tag)
	if err := errors.Join(werr, f.Close()); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

func writeLayout(w io.Writer, img v1.Image, name, tag string) error {
	tw := tar.NewWriter(w)
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: Epoch}); err != nil {
			return err
		}
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	written := map[v1.Hash]bool{}
	for _, l := range layers {
		if err := writeLayerBlob(tw, l, written); err != nil {
			return err
		}
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	manifest, err := img.RawManifest()
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	mediaType, err := img.MediaType()
	if err != nil {
		return err
	}
	index, err := json.Marshal(v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests: []v1.Descriptor{{
			MediaType:   mediaType,
			Size:        int64(len(manifest)),
			Digest:      digest,
			Platform:    &v1.Platform{Architecture: "amd64", OS: "linux"},
			Annotations: map[string]string{AnnotationImageName: name, AnnotationRefName: tag},
		}},
	})
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{blobPath(cfgName), cfg},
		{blobPath(digest), manifest},
		{"index.json", index},
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
	}
	for _, file := range files {
		if err := writeFile(tw, file.name, int64(len(file.data)), bytes.NewReader(file.data)); err != nil {
			return err
		}
	}
	return tw.Close()
}

func writeLayerBlob(tw *tar.Writer, l v1.Layer, written map[v1.Hash]bool) error {
	digest, err := l.Digest()
	if err != nil || written[digest] {
		return err
	}
	written[digest] = true
	size, err := l.Size()
	if err != nil {
		return err
	}
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer func() { _ = rc.Close() }()
	return writeFile(tw, blobPath(digest), size, rc)
}

func blobPath(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

func writeFile(tw *tar.Writer, name string, size int64, r io.Reader) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: Epoch}); err != nil {
		return err
	}
	_, err := io.Copy(tw, r)
	return err
}

// NamedImage is one image of an archive with its name (AnnotationImageName).
type NamedImage struct {
	Name  string
	Image v1.Image
}

// layoutFile matches the names an OCI layout archive may hold.
var layoutFile = regexp.MustCompile(`^(oci-layout|index\.json|blobs/sha256/[0-9a-f]{64})$`)

// ReadArchive unpacks an archive written by WriteArchive into dir (which must exist) and
// returns its images; they read their blobs from dir. Files other than the layout's (a
// docker-archive manifest.json, say) are ignored.
func ReadArchive(archive, dir string) ([]NamedImage, error) {
	if err := unpackLayout(archive, dir); err != nil {
		return nil, err
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", archive, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", archive, err)
	}
	var images []NamedImage
	for _, d := range im.Manifests {
		if !d.MediaType.IsImage() {
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", archive, err)
		}
		images = append(images, NamedImage{Name: d.Annotations[AnnotationImageName], Image: img})
	}
	if len(images) == 0 {
		return nil, fmt.Errorf("%s holds no image", archive)
	}
	return images, nil
}

func unpackLayout(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", archive, err)
		}
		if h.Typeflag != tar.TypeReg || !layoutFile.MatchString(h.Name) {
			continue
		}
		if err := extract(tr, filepath.Join(dir, filepath.FromSlash(h.Name))); err != nil {
			return fmt.Errorf("%s: %w", archive, err)
		}
	}
}

func extract(r io.Reader, p string) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	out, err := os.Create(p)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, r)
	return errors.Join(err, out.Close())
}
