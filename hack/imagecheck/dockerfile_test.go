package imagecheck

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// programs are the images `make docker-build` makes.
var programs = []string{"manager", "backend", "auth", "notifier"}

func readDockerfile(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// buildArgs returns the arguments of the Dockerfile's `go build`, without -o and the package.
func buildArgs(t *testing.T, dockerfile string) (env []string, args []string) {
	t.Helper()
	m := regexp.MustCompile(`RUN ((?:[A-Z_]+=\S+ )*)go build (.*?) -o /out/app ./cmd/\$\{PROGRAM\}`).FindStringSubmatch(dockerfile)
	if m == nil {
		t.Fatal("the Dockerfile has no `go build … -o /out/app ./cmd/${PROGRAM}` step")
	}
	env = strings.Fields(m[1])
	// Shell words: a quoted part stays one word, without its quotes.
	for _, w := range regexp.MustCompile(`(?:[^\s"]+|"[^"]*")+`).FindAllString(m[2], -1) {
		args = append(args, strings.ReplaceAll(w, `"`, ""))
	}
	return env, args
}

func TestDockerfile_FinalStageIsEmptyAndUnprivileged(t *testing.T) {
	d := readDockerfile(t)
	stages := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(d, -1)
	if len(stages) < 2 || stages[len(stages)-1][1] != "scratch" {
		t.Fatalf("stages %v: want a build stage and an empty (scratch) final stage", stages)
	}
	final := d[strings.LastIndex(d, "FROM scratch"):]
	user := regexp.MustCompile(`(?m)^USER (\d+):(\d+)$`).FindStringSubmatch(final)
	if user == nil || user[1] == "0" || user[2] == "0" {
		t.Fatalf("final stage USER = %v: want a numeric non-root user and group (the empty base has no /etc/passwd)", user)
	}
	for _, need := range []string{"ca-certificates.crt", "/out/app /app", `ENTRYPOINT ["/app"]`} {
		if !strings.Contains(final, need) {
			t.Errorf("final stage lacks %q", need)
		}
	}
}

// The binaries must be static: the empty base has no libc and no loader.
func TestDockerfile_BuildGivesStaticBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four programs")
	}
	env, args := buildArgs(t, readDockerfile(t))
	if !slices.Contains(env, "CGO_ENABLED=0") {
		t.Fatalf("build environment %v: want CGO_ENABLED=0", env)
	}
	out := t.TempDir()
	for _, p := range programs {
		bin := filepath.Join(out, p)
		cmd := exec.Command("go", append(append([]string{"build"}, args...), "-o", bin, "./cmd/"+p)...)
		cmd.Dir = "../.."
		cmd.Env = append(os.Environ(), env...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
		}
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				t.Errorf("%s asks for a program interpreter: not static", p)
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("%s needs shared libraries %v", p, libs)
		}
		_ = f.Close()
	}
}
