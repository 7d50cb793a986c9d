package logging_test

import (
	"bytes"
	"strings"
	"testing"

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
