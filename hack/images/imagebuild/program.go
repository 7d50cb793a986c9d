package imagebuild

import (
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The repository's Dockerfile, restated for builds without a container engine; the tests in
// hack/imagecheck hold the two together.
const (
	// NonRootUser is the Dockerfile's USER: numeric, since the empty base has no /etc/passwd
	// (65532 is distroless's "nonroot").
	NonRootUser = "65532:65532"
	// NonRootID is NonRootUser's uid and gid, for files the program must own (a data volume).
	NonRootID = 65532
	// HostCACerts is where Debian (the Dockerfile's build stage, and this machine) keeps the
	// CA bundle; the images carry it at the same path.
	HostCACerts = "/etc/ssl/certs/ca-certificates.crt"
)

// GoBuildEnv and GoBuildArgs are the Dockerfile's `go build` of a program: a static binary
// for linux/amd64, without file system paths, symbol table or debug information.
var (
	GoBuildEnv  = []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"}
	GoBuildArgs = []string{"-trimpath", "-ldflags=-s -w"}
)

// BaseLayer is what every program image has under its binary: the CA bundle (the programs
// make TLS connections) and a world-writable sticky /tmp. There is no shell.
func BaseLayer() LayerSpec {
	return LayerSpec{
		CreatedBy: "base: CA certificates, /tmp (1777)",
		Files: []Entry{
			{Path: HostCACerts, Mode: 0o644, Source: HostCACerts},
			{Path: "/tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
		},
	}
}

// Program is the Dockerfile's image of one static binary: BaseLayer, then the binary at
// entrypoint (root-owned, 0755), running as NonRootUser.
func Program(name, tag, binary, entrypoint string) Spec {
	return Spec{
		Name: name,
		Tag:  tag,
		Layers: []LayerSpec{
			BaseLayer(),
			{CreatedBy: "binary " + entrypoint, Files: []Entry{{Path: entrypoint, Mode: 0o755, Source: binary}}},
		},
		Config: v1.Config{
			User:       NonRootUser,
			Entrypoint: []string{entrypoint},
			Labels: map[string]string{
				"org.opencontainers.image.title":   path.Base(name),
				"org.opencontainers.image.version": tag,
			},
		},
	}
}

// CheckStatic fails unless the file is an ELF executable for amd64 that needs no program
// interpreter and no shared library: the images have no libc.
func CheckStatic(binary string) error {
	f, err := elf.Open(binary)
	if err != nil {
		return fmt.Errorf("%s: %w", binary, err)
	}
	defer func() { _ = f.Close() }()
	if f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("%s is built for %s, not amd64", binary, f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (it asks for a program interpreter)", binary)
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return fmt.Errorf("%s: %w", binary, err)
	}
	if len(libs) > 0 {
		return fmt.Errorf("%s needs shared libraries %v", binary, libs)
	}
	return nil
}
