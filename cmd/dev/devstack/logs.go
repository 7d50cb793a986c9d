package devstack

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
)

// prefixWriter writes each line it receives to out as "name | line", so the interleaved
// logs of every component stay readable, and keeps the last lines for a failure report.
type prefixWriter struct {
	name  string
	out   io.Writer
	outMu *sync.Mutex

	mu      sync.Mutex
	partial []byte
	tail    []string
}

// tailLines is how many of a component's last lines a failure report shows.
const tailLines = 20

func newPrefixWriter(name string, out io.Writer, outMu *sync.Mutex) *prefixWriter {
	return &prefixWriter{name: name, out: out, outMu: outMu}
}

// Write implements io.Writer; it never fails, so a component never blocks on its logs.
func (w *prefixWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > 64<<10 { // a runaway line without a newline
		w.line(string(w.partial))
		w.partial = nil
	}
	return len(p), nil
}

func (w *prefixWriter) line(s string) {
	s = strings.TrimRight(s, "\r")
	w.tail = append(w.tail, s)
	if len(w.tail) > tailLines {
		w.tail = w.tail[len(w.tail)-tailLines:]
	}
	w.outMu.Lock()
	_, _ = fmt.Fprintf(w.out, "%-9s| %s\n", w.name, s) // a log line that cannot be written is dropped
	w.outMu.Unlock()
}

// Tail returns the last lines written, oldest first.
func (w *prefixWriter) Tail() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := append([]string(nil), w.tail...)
	if len(w.partial) > 0 {
		out = append(out, string(w.partial))
	}
	return out
}
