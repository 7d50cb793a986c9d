package devstack

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFile keeps a second stack off the same data directory: etcd and FerretDB would
// corrupt each other's files. The kernel drops the flock when the process dies, however it dies.
type lockFile struct{ f *os.File }

func lockDataDir(dir string) (*lockFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	path := filepath.Join(dir, "dev.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		_ = f.Close()
		holder := strings.TrimSpace(string(b))
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another make dev is already running on %s (pid %s holds %s); stop it with Ctrl-C, "+
				"or run a second one with %s=<other dir> %s=127.0.0.1:<other port>", dir, holder, path, EnvData, EnvAddr)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &lockFile{f: f}, nil
}

func (l *lockFile) release() {
	if l == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
}

// listen opens addr for component, naming both when the port is taken.
func listen(component, addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("%s: port %s is in use (is another make dev running? set %s to use another address)", component, addr, EnvAddr)
		}
		return nil, fmt.Errorf("%s: listen on %s: %w", component, addr, err)
	}
	return l, nil
}
