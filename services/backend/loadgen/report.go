package loadgen

import (
	"fmt"
	"io"
	"time"
)

func printHeader(w io.Writer, concurrency int, rate float64) error {
	mode := "each client's next request once the last is answered"
	if rate > 0 {
		mode = fmt.Sprintf("open loop at %g requests/s, latency from each one's due time", rate)
	}
	_, err := fmt.Fprintf(w, "concurrency %d, %s\n%-22s %-15s %8s %9s %9s %9s %9s %7s %15s %11s %12s\n", concurrency, mode,
		"route", "target", "requests", "req/s", "p50", "p99", "max", "errors", "service CPU/req", "db CPU/req", "sum CPU/req")
	return err
}

func printResult(w io.Writer, r result) error {
	per := func(d time.Duration) string {
		if r.requests == 0 {
			return "-"
		}
		return fmt.Sprintf("%.3f ms", float64(d)/float64(r.requests)/float64(time.Millisecond))
	}
	if _, err := fmt.Fprintf(w, "%-22s %-15s %8d %9.0f %9s %9s %9s %7d %15s %11s %12s\n",
		r.name, r.target, r.requests, float64(r.requests)/r.elapsed.Seconds(),
		ms(r.p50), ms(r.p99), ms(r.max), r.errors, per(r.serviceCPU), per(r.dbCPU), per(r.serviceCPU+r.dbCPU)); err != nil {
		return err
	}
	if r.settle > 0 {
		const note = "  its events were published and recorded %s after the last response (CPU includes it)\n"
		if _, err := fmt.Fprintf(w, note, ms(r.settle)); err != nil {
			return err
		}
	}
	if r.firstErr != "" {
		if _, err := fmt.Fprintf(w, "  first error: %s\n", r.firstErr); err != nil {
			return err
		}
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
