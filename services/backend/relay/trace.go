package relay

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/trace"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/backend/store"
	"littleecom.io/littleecom/services/internal/tracing"
)

// startPublish starts the producer span of e's publication as a child of the request that
// wrote e (store.Event.Trace), even when recovery publishes it long after.
func (r *Relay) startPublish(ctx context.Context, e store.Event) (context.Context, trace.Span) {
	return tracing.StartPublish(e.Trace.Context(ctx), r.cfg.Tracing, contract.Exchange, e.RoutingKey, e.ID)
}

// publishSpans are a batch's publication spans, by position; an entry is nil once ended.
type publishSpans []trace.Span

// ok ends span i: the broker confirmed.
func (s publishSpans) ok(i int) { s.finish(i, nil) }

// fail ends span i with err.
func (s publishSpans) fail(i int, err error) { s.finish(i, err) }

func (s publishSpans) finish(i int, err error) {
	tracing.End(s[i], err)
	s[i] = nil
}

// end ends the spans still open: their events were not confirmed and go out again.
func (s publishSpans) end() {
	for i, span := range s {
		if span != nil {
			s.fail(i, errNotConfirmed)
		}
	}
}

var errNotConfirmed = errors.New("not confirmed; published again later")
