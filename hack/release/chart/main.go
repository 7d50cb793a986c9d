// Command chart packages charts/littleecom for a release, as `helm package --version V
// --app-version V` does, with Helm's own Go module (no helm binary here):
//
//	go run ./hack/release/chart -version 1.2.3 -out dist
//
// writes dist/littleecom-1.2.3.tgz. The chart's version and appVersion are both the
// release, so the operator's image tag (values image.tag, empty) is the release's too.
// hack/release/release.sh calls it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("chart", flag.ContinueOnError)
	version := fs.String("version", "", "the release: the chart's version and appVersion (semver, no leading v)")
	dir := fs.String("chart", "charts/littleecom", "the chart's directory")
	out := fs.String("out", "dist", "where the .tgz goes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *version == "" {
		return errors.New("-version is required")
	}
	if _, err := semver.StrictNewVersion(*version); err != nil {
		return fmt.Errorf("-version %q is not a semantic version such as 1.2.3: %w", *version, err)
	}
	c, err := loader.Load(*dir)
	if err != nil {
		return fmt.Errorf("loading %s: %w", *dir, err)
	}
	c.Metadata.Version = *version
	c.Metadata.AppVersion = *version
	if err := c.Validate(); err != nil {
		return fmt.Errorf("chart %s: %w", *dir, err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	path, err := chartutil.Save(c, *out)
	if err != nil {
		return fmt.Errorf("packaging %s: %w", *dir, err)
	}
	fmt.Println(filepath.Clean(path))
	return nil
}
