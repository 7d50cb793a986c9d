package config_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"littleecom.io/littleecom/services/auth"
	"littleecom.io/littleecom/services/backend"
	"littleecom.io/littleecom/services/internal/amqpx"
	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/mongox"
	"littleecom.io/littleecom/services/notifier"
)

// The operator's builders set the variables by internal/contract's constants; the services
// name them in struct tags, which cannot refer to constants. Every tag must therefore be
// the value of a contract constant, or a typo would leave a setting at its default.
func TestEnvTagsAreContractNames(t *testing.T) {
	contract := contractEnvNames(t)
	for _, v := range []any{auth.Config{}, backend.Config{}, notifier.Config{}, mongox.Config{}, amqpx.Config{}, httpx.CORSEnv{}} {
		keys := envTags(reflect.TypeOf(v))
		if len(keys) < 3 {
			t.Errorf("%T: only %q tagged", v, keys)
		}
		for _, key := range keys {
			if !contract[key] {
				t.Errorf("%T reads %s, which no contract constant names", v, key)
			}
		}
	}
}

// contractEnvNames is the set of values of the string constants named Env* in
// internal/contract.
func contractEnvNames(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "internal", "contract", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, path := range files {
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range vs.Names {
				if i >= len(vs.Values) || !strings.HasPrefix(name.Name, "Env") {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					names[v] = true
				}
			}
			return true
		})
	}
	if len(names) < 20 {
		t.Fatalf("found %d contract env names; the parse missed them", len(names))
	}
	return names
}

// envTags lists the env tags of t's fields and of the structs nested in it.
func envTags(t reflect.Type) []string {
	var keys []string
	for _, f := range reflect.VisibleFields(t) {
		key, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		switch {
		case key == "-":
		case key != "":
			keys = append(keys, key)
		case f.Type.Kind() == reflect.Struct:
			keys = append(keys, envTags(f.Type)...)
		}
	}
	return keys
}
