package devstack

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// reapLeftovers stops the etcd (and the kube-apiserver on it) that a runner killed with
// SIGKILL left behind on dataDir: the services die with their parent (Pdeathsig), but envtest
// starts its processes without it, and a leftover etcd would keep the data directory locked.
// It returns what it stopped, for the log.
func reapLeftovers(dataDir string) []string {
	etcdArg := []byte("--data-dir=" + filepath.Join(dataDir, "etcd"))
	procs := processes()
	var reaped []string
	for _, p := range procs {
		if !bytes.Contains(p.cmdline, etcdArg) {
			continue
		}
		var clientURL string
		for arg := range bytes.SplitSeq(p.cmdline, []byte{0}) {
			if v, ok := strings.CutPrefix(string(arg), "--listen-client-urls="); ok {
				clientURL = v
			}
		}
		for _, q := range procs {
			if clientURL != "" && bytes.Contains(q.cmdline, []byte("--etcd-servers="+clientURL)) {
				reaped = append(reaped, kill(q.pid, "kube-apiserver"))
			}
		}
		reaped = append(reaped, kill(p.pid, "etcd"))
	}
	return reaped
}

type procInfo struct {
	pid     int
	cmdline []byte
}

func processes() []procInfo {
	entries, _ := os.ReadDir("/proc")
	var out []procInfo
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && len(cmdline) > 0 {
			out = append(out, procInfo{pid: pid, cmdline: cmdline})
		}
	}
	return out
}

// kill stops pid with SIGTERM, then SIGKILL after 3 s.
func kill(pid int, what string) string {
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for range 30 {
		if syscall.Kill(pid, 0) != nil {
			return what + " " + strconv.Itoa(pid)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return what + " " + strconv.Itoa(pid) + " (killed)"
}
