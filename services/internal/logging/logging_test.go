package logging_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"littleecom.io/littleecom/services/internal/logging"
)

func TestNewTo(t *testing.T) {
	var b bytes.Buffer
	l := logging.NewTo(&b, "auth", "warn", "")
	l.Info("hidden")
	l.Warn("shown")
	out := b.String()
	if strings.Contains(out, "hidden") || !strings.Contains(out, `"msg":"shown"`) || !strings.Contains(out, `"service":"auth"`) {
		t.Errorf("json/warn logger wrote %q", out)
	}
	b.Reset()
	logging.NewTo(&b, "auth", "debug", "text").Debug("dbg")
	if !strings.Contains(b.String(), "msg=dbg") {
		t.Errorf("text/debug logger wrote %q", b.String())
	}
}

func TestNewTo_TraceIDs(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	var b bytes.Buffer
	l := logging.NewTo(&b, "backend", "info", "").With("component", "x")
	l.InfoContext(ctx, "in a span")
	line := b.String()
	for _, want := range []string{`"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"`, `"span_id":"00f067aa0ba902b7"`, `"component":"x"`} {
		if !strings.Contains(line, want) {
			t.Errorf("line %q lacks %s", line, want)
		}
	}
	b.Reset()
	l.InfoContext(context.Background(), "no span")
	l.Info("no context")
	if strings.Contains(b.String(), "trace_id") || strings.Contains(b.String(), "span_id") {
		t.Errorf("lines without a span carry trace ids: %q", b.String())
	}
}
