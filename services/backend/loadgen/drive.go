package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"littleecom.io/littleecom/internal/contract"
)

// call is one request of a phase and the status it must get.
type call struct {
	method, path, token string
	body                []byte
	want                int
	// keep, when set, receives the body of a successful response.
	keep func(body []byte)
	// direct, when set, is run instead of an HTTP request: the database yardstick.
	direct func(ctx context.Context) error
}

// phase is a route driven with n requests; next builds the i-th.
type phase struct {
	name string
	n    int
	// limit, when set, caps n when the phase starts (what earlier phases left to use).
	limit func() int
	next  func(i int) call
	// events says that every successful request writes one event: the phase's CPU is read
	// only once the relay has published and recorded them all, so it includes that work.
	events bool
}

// result is what a phase measured.
type result struct {
	target, name      string
	requests, errors  int
	elapsed           time.Duration
	p50, p99, max     time.Duration
	serviceCPU, dbCPU time.Duration
	firstErr          string
	// settle is how long after the last response the relay had published and recorded the
	// phase's events.
	settle time.Duration
}

// driver sends requests to one backend and watches its and the database's CPU.
type driver struct {
	name        string // what it measures: ours, the original, the database alone
	base        string
	management  string       // the backend's management port, for /metrics; "" if it has none
	client      *http.Client // for the management port
	concurrency int
	// rate, when set, sends an open-loop stream of that many requests per second instead
	// of each worker's next request as soon as its last is answered.
	rate        float64
	maxDuration time.Duration
	servicePID  int
	dbPID       int
	// events counts the events the backend should have published so far.
	events int
}

// run drives p with d.concurrency workers until p.n requests are done or maxDuration passed.
func (d *driver) run(ctx context.Context, p phase) (result, error) {
	if p.limit != nil {
		p.n = min(p.n, p.limit())
	}
	// The time bound stops new requests; those under way finish and count (each bounded by
	// requestTimeout, conn.go). Cancelling them would end connections mid-response, which the
	// original backend answers by exiting (log.Fatal on a failed write).
	deadline := time.Now().Add(d.maxDuration)
	var (
		next     atomic.Int64
		errs     atomic.Int64
		mu       sync.Mutex
		lat      = make([]time.Duration, 0, p.n)
		firstErr string
		wg       sync.WaitGroup
	)
	svc0, err := cpuTime(d.servicePID)
	if err != nil {
		return result{}, err
	}
	db0, err := cpuTime(d.dbPID)
	if err != nil {
		return result{}, err
	}
	start := time.Now()
	for range d.concurrency {
		wg.Go(func() {
			local := make([]time.Duration, 0, p.n/d.concurrency+1)
			defer func() { mu.Lock(); lat = append(lat, local...); mu.Unlock() }()
			conn := &workerConn{}
			defer conn.close()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := int(next.Add(1)) - 1
				if i >= p.n {
					return
				}
				t0 := time.Now()
				if d.rate > 0 {
					// Request i is due at its place in a steady stream and its latency counts
					// from then: a slow answer that holds up the requests behind it shows in
					// theirs too, not as a pause in the stream (coordinated omission).
					due := start.Add(time.Duration(float64(i) / d.rate * float64(time.Second)))
					time.Sleep(time.Until(due))
					t0 = due
				}
				err := d.do(ctx, conn, p.next(i))
				if ctx.Err() != nil {
					return // interrupted: neither counted nor an error
				}
				local = append(local, time.Since(t0))
				if err != nil {
					if errs.Add(1) == 1 {
						mu.Lock()
						firstErr = err.Error()
						mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var settle time.Duration
	if p.events && d.management != "" {
		d.events += len(lat) - int(errs.Load())
		if err := d.awaitPublished(context.WithoutCancel(ctx)); err != nil {
			return result{}, err
		}
		settle = time.Since(start) - elapsed
	}
	svc1, err := cpuTime(d.servicePID)
	if err != nil {
		return result{}, err
	}
	db1, err := cpuTime(d.dbPID)
	if err != nil {
		return result{}, err
	}
	slices.Sort(lat)
	r := result{
		target: d.name, name: p.name, requests: len(lat), errors: int(errs.Load()), elapsed: elapsed,
		serviceCPU: svc1 - svc0, dbCPU: db1 - db0, firstErr: firstErr, settle: settle,
	}
	if len(lat) > 0 {
		r.p50 = lat[len(lat)*50/100]
		r.p99 = lat[min(len(lat)*99/100, len(lat)-1)]
		r.max = lat[len(lat)-1]
	}
	return r, nil
}

// awaitPublished waits until the backend's metrics count d.events events published (the
// relay counts an event once the broker confirmed it and it was recorded as published).
func (d *driver) awaitPublished(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for {
		n, err := d.published(ctx)
		if err != nil {
			return err
		}
		if n >= d.events {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the backend published %d of %d events within a minute", n, d.events)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// published sums littleecom_events_published_total over its labels.
func (d *driver) published(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.management+contract.PathMetrics, nil)
	if err != nil {
		return 0, err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	total := 0.0
	for l := range strings.SplitSeq(string(b), "\n") {
		if !strings.HasPrefix(l, "littleecom_events_published_total{") {
			continue
		}
		if _, v, ok := strings.Cut(l, "} "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("metrics line %q: %w", l, err)
			}
			total += f
		}
	}
	return int(total), nil
}

// do sends one request on conn and checks its status.
func (d *driver) do(ctx context.Context, conn *workerConn, c call) error {
	if c.direct != nil {
		return c.direct(ctx)
	}
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, d.base+c.path, body)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	status, b, err := conn.roundTrip(ctx, req)
	if err != nil {
		return err
	}
	if status != c.want {
		return fmt.Errorf("%s %s = %d %s", c.method, c.path, status, bytes.TrimSpace(b))
	}
	if c.keep != nil {
		c.keep(b)
	}
	return nil
}

// metricsClient reads the backend's metrics; the workers' requests go over connections of
// their own (conn.go).
func metricsClient() *http.Client { return &http.Client{Timeout: 30 * time.Second} }
