package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// call is one request of a phase and the status it must get.
type call struct {
	method, path, token string
	body                []byte
	want                int
	// keep, when set, receives the body of a successful response.
	keep func(body []byte)
}

// phase is a route driven with n requests; next builds the i-th.
type phase struct {
	name string
	n    int
	next func(i int) call
}

// result is what a phase measured.
type result struct {
	name              string
	requests, errors  int
	elapsed           time.Duration
	p50, p99, max     time.Duration
	serviceCPU, dbCPU time.Duration
	firstErr          string
}

// driver sends requests to one backend and watches its and the database's CPU.
type driver struct {
	base        string
	client      *http.Client
	concurrency int
	maxDuration time.Duration
	servicePID  int
	dbPID       int
}

// run drives p with d.concurrency workers until p.n requests are done or maxDuration passed.
func (d *driver) run(ctx context.Context, p phase) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, d.maxDuration)
	defer cancel()
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
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= p.n {
					return
				}
				t0 := time.Now()
				err := d.do(ctx, p.next(i))
				if ctx.Err() != nil {
					return // cut by the time bound: neither counted nor an error
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
		name: p.name, requests: len(lat), errors: int(errs.Load()), elapsed: elapsed,
		serviceCPU: svc1 - svc0, dbCPU: db1 - db0, firstErr: firstErr,
	}
	if len(lat) > 0 {
		r.p50 = lat[len(lat)*50/100]
		r.p99 = lat[min(len(lat)*99/100, len(lat)-1)]
		r.max = lat[len(lat)-1]
	}
	return r, nil
}

// do sends one request and checks its status.
func (d *driver) do(ctx context.Context, c call) error {
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
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body) // read to the end so the connection is reused
	if resp.StatusCode != c.want {
		return fmt.Errorf("%s %s = %d %s", c.method, c.path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if c.keep != nil {
		c.keep(b)
	}
	return nil
}

// newClient keeps one connection per worker alive, as a real client pool would.
func newClient(concurrency int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        concurrency,
			MaxIdleConnsPerHost: concurrency,
			IdleConnTimeout:     time.Minute,
		},
	}
}
