package loopback

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// envChildServes makes this test binary, re-executed, the child of TestPassTo_ChildServesOnTheSocket.
const envChildServes = "LOOPBACK_TEST_CHILD_SERVES"

// TestChildServes is the child: it takes the inherited socket for its address and answers
// one connection.
func TestChildServes(t *testing.T) {
	addr := os.Getenv(envChildServes)
	if addr == "" {
		t.Skip("the child of TestPassTo_ChildServesOnTheSocket")
	}
	ln, err := Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write([]byte("served by the child\n"))
	_ = c.Close()
	_ = ln.Close()
}

func TestPassTo_ChildServesOnTheSocket(t *testing.T) {
	var ls Listeners
	defer func() { _ = ls.Close() }()
	addr, err := ls.Open()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildServes$")
	cmd.Env = append(os.Environ(), envChildServes+"="+addr)
	ls.PassTo(cmd)
	out, err := os.CreateTemp(t.TempDir(), "child")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err := cmd.Wait(); err != nil {
		b, _ := os.ReadFile(out.Name())
		t.Fatalf("child: %v\n%s", err, b)
	}
	if err != nil || line != "served by the child\n" {
		t.Errorf("read %q, %v; want the child's answer", line, err)
	}
}
