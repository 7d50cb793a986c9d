package cluster

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"slices"
	"strconv"
	"strings"
)

// The running side of the hardening spec: which host processes belong to a container, and
// how they really run. The suite runs as root in the node's host PID namespace, so
// /proc/<pid> of every container process is readable.

// containerPIDs maps container IDs (64 hex digits, as in a pod's containerStatuses) to the
// PIDs of the processes in that container's cgroup: kubelet's cgroupfs driver puts each
// container in .../pod<uid>/<container id>, the systemd driver in cri-containerd-<id>.scope.
func containerPIDs() (map[string][]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	out := map[string][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/cgroup")
		if err != nil {
			continue // the process exited meanwhile
		}
		if id := containerIDOfCgroups(raw); id != "" {
			out[id] = append(out[id], pid)
		}
	}
	return out, nil
}

// containerIDOfCgroups finds a container ID in the lines of /proc/<pid>/cgroup
// ("hierarchy:controllers:path").
func containerIDOfCgroups(raw []byte) string {
	for line := range strings.SplitSeq(strings.TrimSpace(string(raw)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		base := path.Base(parts[2])
		base = strings.TrimSuffix(strings.TrimPrefix(base, "cri-containerd-"), ".scope")
		if isContainerID(base) {
			return base
		}
	}
	return ""
}

func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// taskPIDs asks containerd (ctr, at address) for the PID of each task in the Kubernetes
// namespace: the fallback when a container's cgroup is laid out otherwise.
func taskPIDs(ctx context.Context, address string) (map[string]int, error) {
	out, err := exec.CommandContext(ctx, "ctr", "--address", address, "--namespace", "k8s.io", "task", "ls").Output()
	if err != nil {
		return nil, fmt.Errorf("ctr task ls: %w", err)
	}
	pids := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text()) // TASK PID STATUS
		if len(f) < 2 {
			continue
		}
		if pid, err := strconv.Atoi(f[1]); err == nil {
			pids[f[0]] = pid
		}
	}
	return pids, nil
}

// process is how one container process runs, from /proc.
type process struct {
	pid         int
	uids        []int  // real, effective, saved, filesystem
	rootOptions string // mount options of its root "/"
}

func (p process) nonRoot() bool { return len(p.uids) == 4 && !slices.Contains(p.uids, 0) }

func (p process) readOnlyRoot() bool { return slices.Contains(strings.Split(p.rootOptions, ","), "ro") }

func (p process) String() string {
	return fmt.Sprintf("pid %d: uids %v, / mounted %q", p.pid, p.uids, p.rootOptions)
}

// inspectProcess reads /proc/<pid>/status and /proc/<pid>/mountinfo.
func inspectProcess(pid int) (process, error) {
	p := process{pid: pid}
	dir := "/proc/" + strconv.Itoa(pid)
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return p, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			for f := range strings.FieldsSeq(rest) {
				uid, err := strconv.Atoi(f)
				if err != nil {
					return p, fmt.Errorf("%s/status: Uid %q: %w", dir, rest, err)
				}
				p.uids = append(p.uids, uid)
			}
		}
	}
	mounts, err := os.ReadFile(dir + "/mountinfo")
	if err != nil {
		return p, err
	}
	// "id parent major:minor root mountpoint options ...": the last mount on "/" is the one
	// the process sees.
	found := false
	for line := range strings.SplitSeq(string(mounts), "\n") {
		if f := strings.Fields(line); len(f) > 5 && f[4] == "/" {
			p.rootOptions, found = f[5], true
		}
	}
	if !found {
		return p, fmt.Errorf("%s/mountinfo has no mount on /", dir)
	}
	return p, nil
}
