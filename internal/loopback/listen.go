package loopback

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// EnvListenFDs names the listening sockets a process inherited from its parent, as
// comma-separated ADDR=FD pairs ("127.0.0.1:41234=3,127.0.0.1:41235=4"), in the manner
// of systemd's LISTEN_FDS: the parent bound ADDR and the socket is open as FD.
const EnvListenFDs = "LITTLEECOM_LISTEN_FDS"

// inheritedMu serialises the takes: each inherited socket is taken once.
var inheritedMu sync.Mutex

// Listen is net.Listen("tcp", addr), except that a socket the parent bound for addr and
// handed over (EnvListenFDs) is taken instead of binding a new one.
func Listen(addr string) (net.Listener, error) {
	ln, ok, err := takeInherited(addr)
	if ok {
		return ln, err
	}
	return net.Listen("tcp", addr)
}

// takeInherited takes the socket inherited for addr, if there is one, and removes it from
// EnvListenFDs: a second Listen of addr binds anew rather than reuse a descriptor number
// that now means something else, and a grandchild does not take what it never inherited.
func takeInherited(addr string) (net.Listener, bool, error) {
	inheritedMu.Lock()
	defer inheritedMu.Unlock()
	value, set := os.LookupEnv(EnvListenFDs)
	if !set {
		return nil, false, nil
	}
	var rest []string
	fd := -1
	for pair := range strings.SplitSeq(value, ",") {
		a, n, _ := strings.Cut(pair, "=")
		if a != addr || fd >= 0 {
			rest = append(rest, pair)
			continue
		}
		v, err := strconv.Atoi(n)
		if err != nil || v < 3 {
			return nil, true, fmt.Errorf("%s: %q is not a descriptor number for %s", EnvListenFDs, n, addr)
		}
		fd = v
	}
	if fd < 0 {
		return nil, false, nil
	}
	if len(rest) == 0 {
		_ = os.Unsetenv(EnvListenFDs)
	} else {
		_ = os.Setenv(EnvListenFDs, strings.Join(rest, ","))
	}
	f := os.NewFile(uintptr(fd), "inherited listener "+addr)
	ln, err := net.FileListener(f) // a copy; the inherited descriptor is closed below
	_ = f.Close()
	if err != nil {
		return nil, true, fmt.Errorf("inherited listener for %s (fd %d): %w", addr, fd, err)
	}
	if got := ln.Addr().String(); got != addr {
		_ = ln.Close()
		return nil, true, fmt.Errorf("inherited fd %d listens on %s, not %s", fd, got, addr)
	}
	return ln, true, nil
}
