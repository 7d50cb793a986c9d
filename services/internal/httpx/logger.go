package httpx

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/felixge/httpsnoop"

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
			w, sw := RecordStatus(w)
			next.ServeHTTP(w, r)
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

// Recording is the status and size of a response, as RecordStatus saw them written.
type Recording struct {
	status int
	bytes  int64
}

// RecordStatus wraps w so that the status and body size are recorded. httpsnoop builds the
// wrapper with exactly the optional interfaces w has (http.Flusher, http.Hijacker,
// io.ReaderFrom, ...), which a hand-written wrapper would hide.
func RecordStatus(w http.ResponseWriter) (http.ResponseWriter, *Recording) {
	rec := &Recording{}
	return httpsnoop.Wrap(w, httpsnoop.Hooks{
		WriteHeader: func(next httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc {
			return func(code int) {
				if rec.status == 0 {
					rec.status = code
				}
				next(code)
			}
		},
		Write: func(next httpsnoop.WriteFunc) httpsnoop.WriteFunc {
			return func(b []byte) (int, error) {
				if rec.status == 0 {
					rec.status = http.StatusOK
				}
				n, err := next(b)
				rec.bytes += int64(n)
				return n, err
			}
		},
		ReadFrom: func(next httpsnoop.ReadFromFunc) httpsnoop.ReadFromFunc {
			return func(src io.Reader) (int64, error) {
				if rec.status == 0 {
					rec.status = http.StatusOK
				}
				n, err := next(src)
				rec.bytes += n
				return n, err
			}
		},
	}), rec
}

// Status is the status written so far (200 if the handler wrote nothing).
func (r *Recording) Status() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// Bytes is the number of body bytes written.
func (r *Recording) Bytes() int64 { return r.bytes }
