// Package imagebuild assembles container images without a container engine, with
// go-containerregistry: reproducible layers from a list of files or from a directory tree,
// an image from a Spec, and the OCI layout archives that `ctr images import` loads into
// containerd. The program hack/images uses it for `make images`; hack/imagecheck uses it
// to hold those images to the Dockerfile.
package imagebuild
