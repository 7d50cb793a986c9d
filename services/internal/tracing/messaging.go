package tracing

import (
	"context"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// StartPublish starts a producer span for a message to exchange with routing key key, in
// ctx's trace; put its context in the message with InjectAMQP. End it with End once the
// broker confirmed or refused the message.
func StartPublish(ctx context.Context, tp trace.TracerProvider, exchange, key, messageID string) (context.Context, trace.Span) {
	return Tracer(tp).Start(ctx, "publish "+exchange, trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(messagingAttrs("send", exchange, key, messageID)...))
}

// StartConsume starts the consumer span of a delivery from queue as a child of the span
// that published it (the trace context in its headers).
func StartConsume(ctx context.Context, tp trace.TracerProvider, queue string, d amqp.Delivery) (context.Context, trace.Span) {
	ctx = ExtractAMQP(ctx, d.Headers)
	return Tracer(tp).Start(ctx, "process "+queue, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(messagingAttrs("process", queue, d.RoutingKey, d.MessageId)...))
}

func messagingAttrs(op, destination, key, messageID string) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("messaging.system", "rabbitmq"),
		attribute.String("messaging.operation.type", op),
		attribute.String("messaging.destination.name", destination),
		attribute.String("messaging.rabbitmq.destination.routing_key", key),
		attribute.String("messaging.message.id", messageID),
	}
}

// End ends span, marked failed with err when err is not nil.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
