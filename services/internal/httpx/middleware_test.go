package httpx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/problem"
)

func TestMiddleware_RequestIDLoggerRecover(t *testing.T) {
	var logs bytes.Buffer
	base := slog.New(slog.NewJSONHandler(&logs, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /item/{id}", func(w http.ResponseWriter, r *http.Request) {
		if httpx.RequestIDFrom(r.Context()) == "" {
			t.Error("no request id in context")
		}
		panic("kaboom")
	})
	h := httpx.Chain(mux, httpx.RequestID, httpx.Logger(base), httpx.Recover)

	req := httptest.NewRequest("GET", "/item/42", nil)
	req.Header.Set(httpx.HeaderRequestID, "abc-123")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	if rec.Code != 500 {
		t.Fatalf("status = %d", rec.Code)
	}
	if got := rec.Header().Get(httpx.HeaderRequestID); got != "abc-123" {
		t.Errorf("X-Request-ID = %q", got)
	}
	var body problem.Body
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if body.RequestID != "abc-123" || body.Detail != "internal error" {
		t.Errorf("body = %+v", body)
	}
	out := logs.String()
	for _, want := range []string{`"request_id":"abc-123"`, `"route":"GET /item/{id}"`, `"status":500`, "kaboom"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "/item/42") {
		t.Errorf("raw path logged as route:\n%s", out)
	}
}

func TestRequestID_GeneratesWhenMissingOrUnsafe(t *testing.T) {
	h := httpx.RequestID(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, in := range []string{"", "bad id\nwith newline", strings.Repeat("x", 200)} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set(httpx.HeaderRequestID, in)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get(httpx.HeaderRequestID); got == "" || got == in {
			t.Errorf("in %q: out %q", in, got)
		}
	}
}

func TestServe_ShutsDownOnCancel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httpx.NewServer(ln.Addr().String(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(100 * time.Millisecond) // in flight when the shutdown starts
		_, _ = w.Write([]byte("done"))
	}))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- httpx.ServeListener(ctx, srv, ln, slog.New(slog.DiscardHandler), 5*time.Second) }()

	respc := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			respc <- err.Error()
			return
		}
		defer func() { _ = resp.Body.Close() }() // a read-only response body; nothing to report
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		respc <- b.String()
	}()
	time.Sleep(30 * time.Millisecond)
	cancel()
	if got := <-respc; got != "done" {
		t.Errorf("in-flight request got %q", got)
	}
	if err := <-errc; err != nil {
		t.Errorf("Serve = %v", err)
	}
}

func TestLogger_ProbesAtDebugUnmatchedWithPath(t *testing.T) {
	var logs bytes.Buffer
	base := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(http.ResponseWriter, *http.Request) {})
	h := httpx.Chain(mux, httpx.RequestID, httpx.Logger(base))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	if logs.Len() != 0 {
		t.Errorf("probe logged at info: %s", logs.String())
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nope", nil))
	if !strings.Contains(logs.String(), `"path":"/nope"`) || !strings.Contains(logs.String(), `"status":404`) {
		t.Errorf("unmatched request log: %s", logs.String())
	}
}
