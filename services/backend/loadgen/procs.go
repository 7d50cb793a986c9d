package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"littleecom.io/littleecom/internal/loopback"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100 on every Linux
// platform Go supports, and not readable without cgo.
const clockTicks = 100

// cpuTime returns the user+system CPU time a process has used, all threads included.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read cpu time of %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces; the fields we want follow its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// child is a re-executed copy of this binary running one component.
type child struct {
	name string
	cmd  *exec.Cmd
}

// startChild runs this binary with args and env, output to logFile, serving on ports (nil:
// none) without binding them.
func startChild(name string, args, env []string, logFile *os.File, ports *loopback.Listeners) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own binary: %w", err)
	}
	return startProgram(name, exe, args, env, logFile, ports)
}

// startProgram runs the program at path with args and env, output to logFile, handing it
// ports (nil: none) already bound: see loopback.Listeners.
func startProgram(name, path string, args, env []string, logFile *os.File, ports *loopback.Listeners) (*child, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if ports != nil {
		ports.PassTo(cmd)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return &child{name: name, cmd: cmd}, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop sends SIGTERM, as Kubernetes does, and waits for a graceful exit.
func (c *child) stop() {
	_ = c.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// waitHTTP waits until url answers 200.
func waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer 200 within %s", url, timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// boundAddr waits until the child listens, on the port 0 it was told to bind, and returns
// the address it got: for a child whose listener binds by address itself (FerretDB, the
// original backend) and so cannot be handed a socket.
func boundAddr(ctx context.Context, c *child, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addrs, err := loopback.WaitListening(ctx, c.pid(), 1, nil)
	if err != nil {
		return "", fmt.Errorf("%s: %w", c.name, err)
	}
	return addrs[0], nil
}
