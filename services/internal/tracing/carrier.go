package tracing

import (
	"context"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel/propagation"
)

// AMQPCarrier carries trace context in a message's headers (traceparent, tracestate,
// baggage), as the W3C trace-context recommendation for AMQP does.
type AMQPCarrier amqp.Table

var _ propagation.TextMapCarrier = AMQPCarrier(nil)

// Get returns the header's value when it is a string.
func (c AMQPCarrier) Get(key string) string {
	s, _ := c[key].(string)
	return s
}

// Set sets the header.
func (c AMQPCarrier) Set(key, value string) { c[key] = value }

// Keys lists the headers.
func (c AMQPCarrier) Keys() []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	return out
}

// InjectAMQP writes ctx's trace context into headers, creating the table when nil, and
// returns it.
func InjectAMQP(ctx context.Context, headers amqp.Table) amqp.Table {
	if headers == nil {
		headers = amqp.Table{}
	}
	Propagator.Inject(ctx, AMQPCarrier(headers))
	return headers
}

// ExtractAMQP returns ctx with the trace context of a message's headers.
func ExtractAMQP(ctx context.Context, headers amqp.Table) context.Context {
	return Propagator.Extract(ctx, AMQPCarrier(headers))
}

// Stored is a trace context kept with data that outlives the request, such as an event
// waiting in its document for the relay: the W3C traceparent and tracestate.
type Stored struct {
	Parent string
	State  string
}

// Store returns ctx's trace context for keeping; empty when ctx has no valid span.
func Store(ctx context.Context) Stored {
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return Stored{Parent: c["traceparent"], State: c["tracestate"]}
}

// Context returns ctx with the stored trace context as its remote parent.
func (s Stored) Context(ctx context.Context) context.Context {
	if s.Parent == "" {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": s.Parent, "tracestate": s.State})
}
