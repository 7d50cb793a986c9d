package imagebuild

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The node loads the archives with `ctr -n k8s.io images import` (hack/cluster.sh load); this
// test does the same against a containerd of its own (own root, state and socket under a
// temporary directory, no CRI), so that the name the kubelet looks for is checked on the real
// importer. It is skipped when containerd or ctr is not installed (apt-get install
// containerd) or when not root (containerd needs root).
func TestArchive_ImportsIntoContainerdWithItsName(t *testing.T) {
	if testing.Short() {
		t.Skip("starts containerd")
	}
	for _, bin := range []string{"containerd", "ctr"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed: this integration test needs containerd and ctr", bin)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("containerd needs root")
	}
	sock := startContainerd(t)

	s := Program("littleecom/imagetest", "0.1.0", fakeBinary(t, "x"), "/app")
	archive := filepath.Join(t.TempDir(), "imagetest.tar")
	if err := WriteArchive(archive, mustImage(t, s), s.Name, s.Tag); err != nil {
		t.Fatal(err)
	}
	want, err := ImageName(s.Name, s.Tag)
	if err != nil {
		t.Fatal(err)
	}
	// The native snapshotter unpacks anywhere (overlayfs cannot stack on every /tmp).
	ctr(t, sock, "images", "import", "--snapshotter", "native", archive)
	names := strings.Fields(ctr(t, sock, "images", "ls", "-q"))
	if len(names) != 1 || names[0] != want {
		t.Errorf("containerd holds %q, want exactly %q", names, want)
	}
}

func ctr(t *testing.T, sock string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ctr", append([]string{"--address", sock, "--namespace", "k8s.io"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ctr %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// startContainerd runs containerd confined to a temporary directory and stops it (by its
// PID) when the test ends. The CRI plugin is off (it would set up networking), and so is
// the opt plugin (it would create /opt/containerd).
func startContainerd(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ctrd-") // short: a socket path has at most 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "containerd.sock")
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt"]
[grpc]
  address = %q
[ttrpc]
  address = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, sock+".ttrpc")
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logs, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = logs.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		if c, err := (&net.Dialer{}).DialContext(ctx, "unix", sock); err == nil {
			_ = c.Close()
			return sock
		}
		select {
		case <-done:
			b, _ := os.ReadFile(logs.Name())
			t.Fatalf("containerd exited:\n%s", b)
		case <-ctx.Done():
			t.Fatal("containerd did not open its socket in 20s")
		case <-time.After(100 * time.Millisecond):
		}
	}
}
