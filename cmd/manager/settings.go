package main

import (
	"flag"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"littleecom.io/littleecom/internal/resource"
)

// Environment variables of the operator's settings; a flag given on the command line wins.
const (
	envWatchNamespaces = "LITTLEECOM_WATCH_NAMESPACES"
	envImagePrefix     = "LITTLEECOM_DEFAULT_" // + MONGODB_IMAGE, RABBITMQ_IMAGE, ...
)

// operatorSettings are the manager's settings beyond controller-runtime's: the namespaces
// of a namespace-scoped installation and the default images (the RabbitMQ cluster
// operator's pattern: defaults compiled in, overridable per installation by flag or env).
type operatorSettings struct {
	namespaces string
	images     resource.Images
}

// bindOperatorFlags registers the settings' flags on fs with their defaults from the
// environment (lookup is os.LookupEnv; tests pass their own), else from the code.
func bindOperatorFlags(fs *flag.FlagSet, lookup func(string) (string, bool)) *operatorSettings {
	s := &operatorSettings{images: resource.DefaultImages()}
	env := func(name, def string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	fs.StringVar(&s.namespaces, "watch-namespaces", env(envWatchNamespaces, ""),
		"Comma-separated namespaces to watch (a namespace-scoped installation, with Roles in each); "+
			"empty watches the whole cluster. Env "+envWatchNamespaces+".")
	for _, img := range []struct {
		flag, env string
		dst       *string
	}{
		{"mongodb", "MONGODB_IMAGE", &s.images.MongoDB},
		{"rabbitmq", "RABBITMQ_IMAGE", &s.images.RabbitMQ},
		{"backend", "BACKEND_IMAGE", &s.images.Backend},
		{"auth", "AUTH_IMAGE", &s.images.Auth},
		{"notifier", "NOTIFIER_IMAGE", &s.images.Notifier},
	} {
		fs.StringVar(img.dst, "default-"+img.flag+"-image", env(envImagePrefix+img.env, *img.dst),
			"Image of "+img.flag+" for shops whose spec names none (name:tag or name@sha256:...). Env "+
				envImagePrefix+img.env+".")
	}
	return s
}

// watchNamespaces parses --watch-namespaces: DNS labels, without duplicates.
func (s *operatorSettings) watchNamespaces() ([]string, error) {
	var out []string
	for ns := range strings.SplitSeq(s.namespaces, ",") {
		ns = strings.TrimSpace(ns)
		if ns == "" || slices.Contains(out, ns) {
			continue
		}
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return nil, fmt.Errorf("--watch-namespaces: %q is not a namespace name: %s", ns, strings.Join(errs, "; "))
		}
		out = append(out, ns)
	}
	return out, nil
}
