package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"littleecom.io/littleecom/hack/images/imagebuild"
)

// pusher copies archives to a registry.
type pusher struct {
	// registry is host[:port][/path]; an image littleecom/x:t goes to <registry>/littleecom/x:t.
	registry string
	// insecure allows plain HTTP (go-containerregistry already uses it for loopback and
	// private addresses).
	insecure bool
	log      *slog.Logger
}

// push pushes every image of each archive, with credentials from the default keychain
// (~/.docker/config.json and its credential helpers). Digests are those of the archive.
func (p pusher) push(ctx context.Context, archives []string) error {
	if p.registry == "" || strings.Contains(p.registry, "://") {
		return fmt.Errorf("--registry %q: want host[:port][/path], without a scheme", p.registry)
	}
	var errs []error
	for _, a := range archives {
		if err := p.pushArchive(ctx, a); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a, err))
		}
	}
	return errors.Join(errs...)
}

func (p pusher) pushArchive(ctx context.Context, archive string) error {
	dir, err := os.MkdirTemp("", "images-push-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	images, err := imagebuild.ReadArchive(archive, dir)
	if err != nil {
		return err
	}
	for _, img := range images {
		ref, err := p.destination(img.Name)
		if err != nil {
			return err
		}
		if err := remote.Write(ref, img.Image, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
			return fmt.Errorf("pushing %s: %w", ref, err)
		}
		digest, err := img.Image.Digest()
		if err != nil {
			return err
		}
		p.log.Info("pushed", "archive", filepath.Base(archive), "ref", ref.String(), "digest", digest.String())
	}
	return nil
}

// destination maps an archive's image name to the registry: the short (familiar) name, as
// the manifests spell it, under the registry prefix.
func (p pusher) destination(imageName string) (name.Reference, error) {
	named, err := reference.ParseNormalizedNamed(imageName)
	if err != nil {
		return nil, fmt.Errorf("image name %q in the archive: %w", imageName, err)
	}
	var opts []name.Option
	if p.insecure {
		opts = append(opts, name.Insecure)
	}
	return name.ParseReference(strings.TrimSuffix(p.registry, "/")+"/"+reference.FamiliarString(named), opts...)
}
