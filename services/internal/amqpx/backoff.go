package amqpx

import (
	"math/rand/v2"
	"time"
)

// Backoff is the wait between reconnection attempts: it doubles from min to max after every
// failure, and each wait is drawn from the upper half of the current step, so that replicas
// that lost the broker together do not return together.
type Backoff struct {
	min, max, step time.Duration
}

// NewBackoff starts at c's ReconnectMin.
func NewBackoff(c Config) *Backoff {
	c = c.WithDefaults()
	return &Backoff{min: c.ReconnectMin, max: c.ReconnectMax, step: c.ReconnectMin}
}

// Next returns the wait before the next attempt and doubles the step.
func (b *Backoff) Next() time.Duration {
	wait := b.step/2 + rand.N(b.step/2+1)
	b.step = min(b.step*2, b.max)
	return wait
}

// Reset starts over at the minimum, after a success.
func (b *Backoff) Reset() { b.step = b.min }
