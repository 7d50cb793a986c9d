package notifier

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"littleecom.io/littleecom/services/internal/tracing"
)

// sendTraced is sender.send in a client span, the last link of a purchase's trace: the
// request, the publication, the consumer, the hand-over to the SMTP server. The span names
// the kind of e-mail, not the address.
func (n *Notifier) sendTraced(ctx context.Context, m email, msg []byte) error {
	ctx, span := tracing.Tracer(n.cfg.Tracing).Start(ctx, "smtp send", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("server.address", n.cfg.SMTP.Host),
			attribute.Int("server.port", n.cfg.SMTP.Port),
			attribute.String("littleecom.email.kind", string(m.Kind)),
		))
	err := n.sender.send(ctx, m.To, msg)
	tracing.End(span, err)
	return err
}
