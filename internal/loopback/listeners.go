package loopback

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// Listeners are loopback listening sockets a parent opened for a child process. The parent
// keeps its copies open until Close, so the ports stay taken between children (a restarted
// service gets the same address back, and connections wait in the backlog meanwhile).
type Listeners struct {
	files []*os.File // the parent's copies, in Open order
	addrs []string
}

// Open listens on a free loopback port for the child and returns the bound address.
func (l *Listeners) Open() (string, error) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return "", fmt.Errorf("listen on a loopback port: %w", err)
	}
	// File is a copy of the socket; the net.Listener is not needed beside it.
	f, err := ln.File()
	_ = ln.Close()
	if err != nil {
		return "", fmt.Errorf("listener %s as a file: %w", ln.Addr(), err)
	}
	l.files = append(l.files, f)
	l.addrs = append(l.addrs, ln.Addr().String())
	return ln.Addr().String(), nil
}

// PassTo makes cmd inherit the listeners: they are appended to its ExtraFiles and named,
// with their addresses, in EnvListenFDs. Call it before cmd.Start, after cmd.Env is set
// (an unset Env becomes this process's environment, which is what os/exec would pass).
func (l *Listeners) PassTo(cmd *exec.Cmd) {
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	first := 3 + len(cmd.ExtraFiles) // ExtraFiles[i] becomes the child's fd 3+i
	pairs := make([]string, len(l.files))
	for i := range l.files {
		pairs[i] = l.addrs[i] + "=" + strconv.Itoa(first+i)
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, l.files...)
	cmd.Env = append(cmd.Env, EnvListenFDs+"="+strings.Join(pairs, ","))
}

// InThisProcess is the EnvListenFDs value that hands the listeners to Listen in this very
// process, as PassTo hands them to a child: for tests that run a service's Main in-process.
// Each listener is passed as a new copy of its socket, which Listen takes over.
func (l *Listeners) InThisProcess() (string, error) {
	pairs := make([]string, len(l.files))
	for i, f := range l.files {
		raw, err := f.SyscallConn()
		if err != nil {
			return "", fmt.Errorf("listener %s: %w", l.addrs[i], err)
		}
		var fd int
		var dupErr error
		if err := raw.Control(func(s uintptr) { fd, dupErr = syscall.Dup(int(s)) }); err != nil {
			return "", fmt.Errorf("listener %s: %w", l.addrs[i], err)
		}
		if dupErr != nil {
			return "", fmt.Errorf("copy listener %s: %w", l.addrs[i], dupErr)
		}
		syscall.CloseOnExec(fd)
		pairs[i] = l.addrs[i] + "=" + strconv.Itoa(fd)
	}
	return strings.Join(pairs, ","), nil
}

// Close closes the parent's copies; children keep theirs. It is safe to call more than once.
func (l *Listeners) Close() error {
	errs := make([]error, 0, len(l.files))
	for _, f := range l.files {
		errs = append(errs, f.Close())
	}
	l.files, l.addrs = nil, nil
	return errors.Join(errs...)
}
