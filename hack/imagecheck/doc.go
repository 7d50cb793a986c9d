// Package imagecheck holds the test of the Dockerfile that this machine can run without a
// container engine: the build stage's exact go build command, for every program the images
// carry, must give a static binary that runs on the empty base as an unprivileged user.
package imagecheck
