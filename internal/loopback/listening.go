package loopback

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// tcpListen is the "st" of a listening socket in /proc/net/tcp.
const tcpListen = "0A"

// ListeningAddrs are the IPv4 TCP addresses process pid listens on, read from /proc (its
// open sockets, matched by inode against the socket table): how a parent learns the port a
// child bound when the child's listener binds by address itself and cannot be handed one.
func ListeningAddrs(pid int) ([]string, error) {
	proc := "/proc/" + strconv.Itoa(pid)
	fds, err := os.ReadDir(proc + "/fd")
	if err != nil {
		return nil, fmt.Errorf("open sockets of %d: %w", pid, err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(proc + "/fd/" + fd.Name())
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	table, err := os.ReadFile(proc + "/net/tcp")
	if err != nil {
		return nil, fmt.Errorf("socket table of %d: %w", pid, err)
	}
	var addrs []string
	for i, line := range strings.Split(string(table), "\n") {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		f := strings.Fields(line)
		if i == 0 || len(f) < 10 || f[3] != tcpListen || !inodes[f[9]] {
			continue
		}
		addr, err := parseProcAddr(f[1])
		if err != nil {
			return nil, fmt.Errorf("socket table of %d: %w", pid, err)
		}
		addrs = append(addrs, addr)
	}
	return addrs, nil
}

// parseProcAddr turns /proc/net/tcp's "0100007F:A0B1" into "127.0.0.1:41137": the kernel
// prints the address's four network-order bytes as one word in this machine's byte order
// (hence 0100007F on x86), and the port as a number.
func parseProcAddr(s string) (string, error) {
	ipHex, portHex, ok := strings.Cut(s, ":")
	word, err1 := strconv.ParseUint(ipHex, 16, 32)
	port, err2 := strconv.ParseUint(portHex, 16, 16)
	if !ok || err1 != nil || err2 != nil {
		return "", fmt.Errorf("unexpected address %q", s)
	}
	ip := net.IP(binary.NativeEndian.AppendUint32(nil, uint32(word)))
	return net.JoinHostPort(ip.String(), strconv.FormatUint(port, 10)), nil
}

// WaitListening waits until process pid listens on n addresses and returns them, or fails
// when exited is closed first (the child died) or ctx ends.
func WaitListening(ctx context.Context, pid, n int, exited <-chan struct{}) ([]string, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		addrs, err := ListeningAddrs(pid)
		if err == nil && len(addrs) >= n {
			return addrs, nil
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("process %d exited before it listened", pid)
		case <-ctx.Done():
			return nil, fmt.Errorf("process %d does not listen on %d addresses: %w (last look: %v, %v)", pid, n, ctx.Err(), addrs, err)
		case <-tick.C:
		}
	}
}
