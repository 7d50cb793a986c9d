// Command netcheck tries to open TCP connections and reports each attempt as one JSON line,
// for the end-to-end suite's network-policy checks (e2e/cluster). It runs as a one-shot pod:
//
//	netcheck -connect host:port[,host:port...] -timeout 3s [-retry 30s]
//
// -retry tries a target that failed again, every half second, until it connects or that much
// time has passed since the start: a NetworkPolicy enforcer learns a new pod's address a
// moment after the pod starts, so a connection that must be allowed may at first be refused.
// Each line is {"target": "host:port", "ok": true|false, "error": "..."}, in the order the
// targets were given. The exit status is 0 when every connection opened, 1 when any failed
// and 2 on bad usage.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// result is one target's outcome, one JSON line of the output.
type result struct {
	Target string `json:"target"`
	OK     bool   `json:"ok"`
	Error  string `json:"error"`
}

func main() {
	connect := flag.String("connect", "", "comma-separated host:port targets to open a TCP connection to")
	timeout := flag.Duration("timeout", 3*time.Second, "how long each connection attempt may take")
	retry := flag.Duration("retry", 0, "keep trying a failed target for this long (0: try once)")
	flag.Parse()
	targets := splitTargets(*connect)
	if len(targets) == 0 || *timeout <= 0 || *retry < 0 {
		fmt.Fprintln(os.Stderr, "usage: netcheck -connect host:port[,host:port...] [-timeout 3s] [-retry 0s]")
		os.Exit(2)
	}
	results := check(targets, *timeout, time.Now().Add(*retry))
	enc := json.NewEncoder(os.Stdout)
	failed := false
	for _, r := range results {
		if err := enc.Encode(r); err != nil {
			fmt.Fprintln(os.Stderr, "netcheck: writing the result:", err)
			os.Exit(2)
		}
		failed = failed || !r.OK
	}
	if failed {
		os.Exit(1)
	}
}

func splitTargets(list string) []string {
	var out []string
	for t := range strings.SplitSeq(list, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// retryEvery is the pause between two attempts at a target that failed.
const retryEvery = 500 * time.Millisecond

// check dials every target at once, so that a run takes one timeout, not one per target,
// and tries a failed one again until the deadline.
func check(targets []string, timeout time.Duration, deadline time.Time) []result {
	results := make([]result, len(targets))
	var wg sync.WaitGroup
	for i, target := range targets {
		wg.Go(func() {
			r := dial(target, timeout)
			for !r.OK && time.Now().Add(retryEvery).Before(deadline) {
				time.Sleep(retryEvery)
				r = dial(target, timeout)
			}
			results[i] = r
		})
	}
	wg.Wait()
	return results
}

func dial(target string, timeout time.Duration) result {
	conn, err := net.DialTimeout("tcp", target, timeout)
	if err != nil {
		return result{Target: target, Error: err.Error()}
	}
	_ = conn.Close()
	return result{Target: target, OK: true}
}
