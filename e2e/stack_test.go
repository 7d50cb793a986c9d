package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"littleecom.io/littleecom/cmd/dev/devstack"
)

// logBuffer keeps the stack's logs; a failing test prints their tail.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := strings.Split(strings.TrimRight(b.buf.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startStackIn starts the stack with its data (etcd, FerretDB) in dataDir.
func startStackIn(t *testing.T, dataDir string) (*devstack.Stack, *logBuffer, error) {
	t.Helper()
	logs := &logBuffer{}
	s, err := devstack.Start(context.Background(), devstack.Config{
		DataDir:   dataDir,
		Addr:      "127.0.0.1:0",
		VHost:     "littleecom-e2e-" + randomHex(4),
		Ephemeral: true,
		Log:       logs,
		Timeout:   2 * time.Minute,
	})
	if err != nil {
		return nil, logs, err
	}
	t.Logf("stack up in %s at %s", s.StartupTime().Round(100*time.Millisecond), s.URL())
	return s, logs, nil
}

// assertNothingLeft checks that Stop left no process and no listening port behind.
func assertNothingLeft(t *testing.T, pids map[string]int, addrs map[string]string) {
	t.Helper()
	for name, pid := range pids {
		// Each service ran in its own process group: nothing of it may be left.
		if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s (process group %d) still exists after Stop (kill: %v)", name, pid, err)
		}
	}
	if kids := childProcesses(t); len(kids) > 0 {
		t.Errorf("child processes left after Stop: %s", strings.Join(kids, "; "))
	}
	for name, addr := range addrs {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("%s's port %s is still taken after Stop: %v", name, addr, err)
			continue
		}
		_ = l.Close()
	}
}

// childProcesses lists the live children of the test process (kube-apiserver, etcd, the
// services, a go build), from /proc.
func childProcesses(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Logf("cannot read /proc: %v", err)
		return nil
	}
	self := os.Getpid()
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces, so split after the last ')'.
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) < 2 || fields[0] == "Z" {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid == self {
			out = append(out, strconv.Itoa(pid)+" "+s[strings.IndexByte(s, '(')+1:i])
		}
	}
	return out
}
