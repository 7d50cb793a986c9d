package httpx

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/reqctx"
)

// LoggerFrom returns the request-scoped logger that Logger stored, or slog.Default().
func LoggerFrom(ctx context.Context) *slog.Logger { return reqctx.Logger(ctx) }

// Logger gives each request a logger carrying its id and method, and logs one line per
// request with the route pattern (not the raw path, which holds ids), status and duration.
// Place it inside RequestID.
func Logger(base *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			l := base.With("request_id", reqctx.RequestID(r.Context()), "method", r.Method)
			r = r.WithContext(reqctx.WithLogger(r.Context(), l))
			sw := WrapStatus(w)
			next.ServeHTTP(sw, r)
			level := slog.LevelInfo
			switch {
			case sw.Status() >= 500:
				level = slog.LevelError
			case isProbe(r.Pattern):
				level = slog.LevelDebug // the kubelet and Prometheus poll these every few seconds
			}
			attrs := []slog.Attr{
				slog.String("route", r.Pattern),
				slog.Int("status", sw.Status()),
				slog.Duration("duration", time.Since(start)),
				slog.Int64("bytes", sw.Bytes()),
			}
			if r.Pattern == "" {
				// No route matched: the path is what someone will want to see, and a log line
				// has no cardinality to protect.
				attrs = append(attrs, slog.String("path", r.URL.Path))
			}
			l.LogAttrs(r.Context(), level, "request", attrs...)
		})
	}
}

func isProbe(pattern string) bool {
	switch pattern {
	case "GET " + contract.PathHealthz, "GET " + contract.PathReadyz, "GET " + contract.PathMetrics:
		return true
	}
	return false
}

// StatusWriter records the status and size of a response for logs and metrics.
type StatusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

// WrapStatus returns w wrapped in a StatusWriter, or w itself when it already is one.
func WrapStatus(w http.ResponseWriter) *StatusWriter {
	if sw, ok := w.(*StatusWriter); ok {
		return sw
	}
	return &StatusWriter{ResponseWriter: w}
}

// WriteHeader records the status.
func (s *StatusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and the size.
func (s *StatusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Status is the status written so far (200 if the handler wrote nothing).
func (s *StatusWriter) Status() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// Bytes is the number of body bytes written.
func (s *StatusWriter) Bytes() int64 { return s.bytes }

// Unwrap lets http.ResponseController reach the underlying writer (Flush, deadlines).
func (s *StatusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
