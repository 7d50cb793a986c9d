package loopback

import (
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestListen_TakesTheInheritedSocketOnce(t *testing.T) {
	var ls Listeners
	defer func() { _ = ls.Close() }()
	a, err := ls.Open()
	if err != nil {
		t.Fatal(err)
	}
	b, err := ls.Open()
	if err != nil {
		t.Fatal(err)
	}
	env, err := ls.InThisProcess()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvListenFDs, env)

	ln, err := Listen(b)
	if err != nil {
		t.Fatalf("Listen(%s) = %v, want the inherited socket", b, err)
	}
	defer func() { _ = ln.Close() }()
	if ln.Addr().String() != b {
		t.Errorf("listening on %s, want %s", ln.Addr(), b)
	}
	if got := os.Getenv(EnvListenFDs); strings.Contains(got, b) || !strings.Contains(got, a+"=") {
		t.Errorf("%s = %q after taking %s: want only %s left", EnvListenFDs, got, b, a)
	}
	// The port is still bound (by the Listeners' copy), so binding anew must fail: a second
	// Listen does not reuse the descriptor it took.
	if again, err := Listen(b); err == nil {
		_ = again.Close()
		t.Errorf("a second Listen(%s) succeeded, want address in use", b)
	}
	la, err := Listen(a)
	if err != nil {
		t.Fatal(err)
	}
	_ = la.Close()
	if _, set := os.LookupEnv(EnvListenFDs); set {
		t.Errorf("%s still set after every socket was taken", EnvListenFDs)
	}
}

func TestListen_BindsWhenNothingWasInherited(t *testing.T) {
	t.Setenv(EnvListenFDs, "127.0.0.1:1=3")
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = ln.Close()
	if got := os.Getenv(EnvListenFDs); got != "127.0.0.1:1=3" {
		t.Errorf("%s = %q, want it untouched", EnvListenFDs, got)
	}
}

func TestPassTo_NamesTheChildsDescriptors(t *testing.T) {
	var ls Listeners
	defer func() { _ = ls.Close() }()
	a, _ := ls.Open()
	b, _ := ls.Open()
	cmd := exec.Command("true")
	cmd.Env = []string{"A=1"}
	cmd.ExtraFiles = []*os.File{os.Stdin}
	ls.PassTo(cmd)
	want := EnvListenFDs + "=" + a + "=4," + b + "=5"
	if !slices.Equal(cmd.Env, []string{"A=1", want}) || len(cmd.ExtraFiles) != 3 {
		t.Errorf("env %q, %d extra files; want [A=1 %s] and 3", cmd.Env, len(cmd.ExtraFiles), want)
	}
}

func TestListeningAddrs_FindsThisProcesssListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	addrs, err := ListeningAddrs(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(addrs, ln.Addr().String()) {
		t.Errorf("ListeningAddrs = %v, want it to contain %s", addrs, ln.Addr())
	}
}

func TestParseProcAddr(t *testing.T) {
	got, err := parseProcAddr("0100007F:A0B1")
	if err != nil || got != "127.0.0.1:41137" {
		t.Errorf("parseProcAddr = %q, %v; want 127.0.0.1:41137", got, err)
	}
	if _, err := parseProcAddr("zz"); err == nil {
		t.Error("parseProcAddr accepted garbage")
	}
}
