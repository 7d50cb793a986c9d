package cluster

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Timing of the availability probe.
const (
	probeEvery   = 200 * time.Millisecond
	probeTimeout = 5 * time.Second
	// probeMinimum is the fewest answers a probe must have seen for its verdict to mean
	// anything: a probe that never got through proves nothing.
	probeMinimum = 20
)

// availabilityProbe sends one GET after another through the ingress controller while a
// rollout or a pod deletion happens, and keeps every answer that was not 200. A shop whose
// pods stop listening before the proxies in front of them have forgotten them loses
// requests here (they hang until the proxy's dial timeout, then 502).
type availabilityProbe struct {
	path string
	stop context.CancelFunc
	done chan struct{}

	mu       sync.Mutex
	answered int
	failures []string
}

// startAvailabilityProbe probes path until the probe is finished.
func startAvailabilityProbe(ctx context.Context, path string) *availabilityProbe {
	ctx, stop := context.WithCancel(ctx)
	p := &availabilityProbe{path: path, stop: stop, done: make(chan struct{})}
	go p.run(ctx)
	return p
}

func (p *availabilityProbe) run(ctx context.Context) {
	defer GinkgoRecover()
	defer close(p.done)
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	for {
		p.once(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (p *availabilityProbe) once(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	start := time.Now()
	resp, err := api.try(rctx, request{method: http.MethodGet, path: p.path})
	if ctx.Err() != nil {
		return // the probe was finished while this request ran
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answered++
	switch {
	case err != nil:
		p.failures = append(p.failures, fmt.Sprintf("%s GET %s: %v after %s", start.Format("15:04:05.000"), p.path, err, time.Since(start).Round(time.Millisecond)))
	case resp.status != http.StatusOK:
		p.failures = append(p.failures, fmt.Sprintf("%s GET %s: %d %s after %s", start.Format("15:04:05.000"), p.path, resp.status, resp.text(), time.Since(start).Round(time.Millisecond)))
	}
}

// expectNoFailures finishes the probe and fails the spec for every request that was lost.
func (p *availabilityProbe) expectNoFailures() {
	GinkgoHelper()
	p.stop()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	GinkgoWriter.Printf("probe of %s: %d requests, %d failed\n", p.path, p.answered, len(p.failures))
	Expect(p.answered).To(BeNumerically(">=", probeMinimum), "requests the probe of %s made", p.path)
	Expect(p.failures).To(BeEmpty(), "requests to %s lost during the change", p.path)
}
