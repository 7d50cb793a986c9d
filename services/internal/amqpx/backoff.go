package amqpx

import (
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Backoff is the wait between reconnection attempts: it doubles from min to max after every
// failure, and each wait is drawn from the upper half of the current step, [step/2, step],
// so that replicas that lost the broker together do not return together.
type Backoff struct {
	exp *backoff.ExponentialBackOff
}

// cenkalti/backoff draws from [interval*(1-f), interval*(1+f)]; an interval of 3/4 of the
// step with f = 1/3 is exactly [step/2, step].
const (
	stepToInterval = 0.75
	jitterFactor   = 1.0 / 3
)

// NewBackoff starts at c's ReconnectMin.
func NewBackoff(c Config) *Backoff {
	c = c.WithDefaults()
	exp := &backoff.ExponentialBackOff{
		InitialInterval:     time.Duration(float64(c.ReconnectMin) * stepToInterval),
		MaxInterval:         time.Duration(float64(c.ReconnectMax) * stepToInterval),
		Multiplier:          2,
		RandomizationFactor: jitterFactor,
	}
	exp.Reset()
	return &Backoff{exp: exp}
}

// Next returns the wait before the next attempt and doubles the step.
func (b *Backoff) Next() time.Duration { return b.exp.NextBackOff() }

// Reset starts over at the minimum, after a success.
func (b *Backoff) Reset() { b.exp.Reset() }
