package devstack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"littleecom.io/littleecom/internal/contract"
)

// process is one shop service running as a local child process in its own process group,
// so that stopping it also stops anything it started.
type process struct {
	name     string
	addr     string // host:port of its HTTP server
	mgmtAddr string // host:port of its management server (probes, metrics)
	cmd      *exec.Cmd
	logs     *prefixWriter
	done     chan struct{} // closed when the process exited
	err      error         // exit status, valid after done
	stopping chan struct{} // closed by the first stop
	stopOnce sync.Once
	env      map[string]string // as started, to notice a configuration change
	ports    *servicePorts     // addr and mgmtAddr, bound by the runner; shared with the process a rollout starts next
}

// startProcess runs bin with env (and nothing inherited but PATH, HOME and ports, whose
// sockets it serves on without binding them: see servicePorts).
func startProcess(name, bin string, ports *servicePorts, env []string, logs *prefixWriter) (*process, error) {
	cmd := exec.Command(bin)
	cmd.Env = env
	ports.listeners.PassTo(cmd)
	cmd.Stdout = logs
	cmd.Stderr = logs
	// Own process group: a signal to -pid reaches the service and anything it forks.
	// Pdeathsig: if this runner is killed hard, the kernel stops the child too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", name, bin, err)
	}
	p := &process{name: name, addr: ports.addr, mgmtAddr: ports.mgmtAddr, ports: ports, cmd: cmd, logs: logs,
		done: make(chan struct{}), stopping: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// PID is the process id, also its process group id.
func (p *process) PID() int { return p.cmd.Process.Pid }

// stop sends SIGTERM to the process group, and SIGKILL when it has not exited after grace.
func (p *process) stop(grace time.Duration) {
	p.stopOnce.Do(func() { close(p.stopping) })
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.PID(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.PID(), syscall.SIGKILL)
		<-p.done
	}
	// Reap what the service may have left in its group.
	_ = syscall.Kill(-p.PID(), syscall.SIGKILL)
}

// died reports whether the process exited without being asked to.
func (p *process) died() bool {
	select {
	case <-p.stopping:
		return false
	default:
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// deathError names the process, its exit status and its last log lines.
func (p *process) deathError() error {
	status := "exited"
	if p.err != nil {
		status = p.err.Error()
	}
	return &ComponentError{Component: p.name, Reason: status, LastLines: p.logs.Tail()}
}

// ComponentError is a component that died or never became ready, with its last log lines.
type ComponentError struct {
	Component string
	Reason    string
	LastLines []string
}

func (e *ComponentError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s: %s", e.Component, e.Reason)
	if len(e.LastLines) > 0 {
		fmt.Fprintf(&sb, "; its last log lines:\n")
		for _, l := range e.LastLines {
			fmt.Fprintf(&sb, "    %s\n", l)
		}
	}
	return strings.TrimRight(sb.String(), "\n")
}

// readyURL is the process's readiness endpoint, on its management port.
func (p *process) readyURL() string { return "http://" + p.mgmtAddr + contract.PathReadyz }

// waitReady polls http://addr/readyz until it answers 200, the process dies or ctx ends.
func (p *process) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	last := "no answer"
	for {
		ok, answer := probe(ctx, client, p.readyURL())
		if ok {
			return nil
		}
		if answer != "" {
			last = answer
		}
		select {
		case <-p.done:
			return p.deathError()
		case <-ctx.Done():
			return &ComponentError{Component: p.name,
				Reason:    fmt.Sprintf("not ready (%v); its last /readyz answer: %s", ctx.Err(), last),
				LastLines: p.logs.Tail()}
		case <-tick.C:
		}
	}
}

// probe GETs url and reports whether it answered 200, and what it answered otherwise.
func probe(ctx context.Context, client *http.Client, url string) (bool, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, ""
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode == http.StatusOK {
		return true, ""
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	return false, resp.Status + " " + strings.TrimSpace(string(body))
}
