package main

import (
	"flag"
	"io"
	"strings"
	"testing"

	"littleecom.io/littleecom/internal/resource"
)

func parse(t *testing.T, env map[string]string, args ...string) *operatorSettings {
	t.Helper()
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s := bindOperatorFlags(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSettings_ImagesFromCodeEnvAndFlags(t *testing.T) {
	if got := parse(t, nil).images; got != resource.DefaultImages() {
		t.Errorf("no flag, no env: %+v, want the compiled defaults", got)
	}
	s := parse(t, map[string]string{"LITTLEECOM_DEFAULT_MONGODB_IMAGE": "mongo:8.0", "LITTLEECOM_DEFAULT_AUTH_IMAGE": " "},
		"--default-rabbitmq-image=rabbitmq:4.1-management")
	if s.images.MongoDB != "mongo:8.0" || s.images.RabbitMQ != "rabbitmq:4.1-management" ||
		s.images.Auth != resource.DefaultImages().Auth {
		t.Errorf("env and flags: %+v", s.images)
	}
	s = parse(t, map[string]string{"LITTLEECOM_DEFAULT_MONGODB_IMAGE": "mongo:8.0"}, "--default-mongodb-image=mongo:7.0.14")
	if s.images.MongoDB != "mongo:7.0.14" {
		t.Errorf("a flag wins over the environment, got %q", s.images.MongoDB)
	}
}

func TestSettings_WatchNamespaces(t *testing.T) {
	cases := []struct {
		env, flag string
		want      string
		err       string
	}{
		{"", "", "", ""},
		{"shop", "", "shop", ""},
		{"shop", "--watch-namespaces=a, b,a", "a,b", ""},
		{"", "--watch-namespaces=Shop", "", "not a namespace name"},
	}
	for _, tc := range cases {
		var args []string
		if tc.flag != "" {
			args = append(args, tc.flag)
		}
		s := parse(t, map[string]string{"LITTLEECOM_WATCH_NAMESPACES": tc.env}, args...)
		got, err := s.watchNamespaces()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.flag, err, tc.err)
			}
			continue
		}
		if err != nil || strings.Join(got, ",") != tc.want {
			t.Errorf("env %q flag %q: %v %v, want %q", tc.env, tc.flag, got, err, tc.want)
		}
	}
}
