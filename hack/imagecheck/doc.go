// Package imagecheck holds the tests of the Dockerfile that this machine can run without a
// container engine: the build stage's exact go build command, for every program the images
// carry, must give a static binary that runs on the empty base as an unprivileged user; and
// `make images` (hack/images/imagebuild), which builds the same images without the
// Dockerfile, must build, copy, run as and start what the Dockerfile does.
package imagecheck
