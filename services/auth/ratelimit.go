package auth

import (
	"math"
	"sync"
	"time"
)

// limiter is an in-memory token bucket per key (an e-mail or a client IP): a burst of
// `burst` attempts, refilled at burst per `per`. It is per replica, which multiplies the
// allowance by the replica count — acceptable for slowing password guessing, and it keeps
// sign-in free of a database write per attempt.
type limiter struct {
	burst float64
	rate  float64 // tokens per second
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	calls   int
}

type bucket struct {
	tokens float64
	last   time.Time
}

// sweepEvery bounds memory: every so many calls, buckets that have refilled completely (and
// so carry no state) are dropped.
const sweepEvery = 1024

func newLimiter(burst int, per time.Duration) *limiter {
	return &limiter{
		burst:   float64(burst),
		rate:    float64(burst) / per.Seconds(),
		now:     time.Now,
		buckets: make(map[string]*bucket),
	}
}

// allow takes one attempt for key. When none is left it returns false and how long until
// the next one.
func (l *limiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.calls++
	if l.calls%sweepEvery == 0 {
		l.sweep(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}
