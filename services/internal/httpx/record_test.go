package httpx

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRecordStatus_RecordsWhatTheHandlerWrote(t *testing.T) {
	for _, tc := range []struct {
		name       string
		handler    func(http.ResponseWriter)
		status     int
		bytes      int64
		underlying int
	}{
		{"nothing written is a 200", func(http.ResponseWriter) {}, 200, 0, 200},
		{"a body alone is a 200", func(w http.ResponseWriter) { _, _ = w.Write([]byte("hello")) }, 200, 5, 200},
		{"the first status wins", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusConflict)
			w.WriteHeader(http.StatusOK) // net/http ignores it too
			_, _ = w.Write([]byte("no"))
		}, 409, 2, 409},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rr := httptest.NewRecorder()
			w, rec := RecordStatus(rr)
			tc.handler(w)
			if rec.Status() != tc.status || rec.Bytes() != tc.bytes {
				t.Errorf("recorded %d, %d bytes; want %d, %d", rec.Status(), rec.Bytes(), tc.status, tc.bytes)
			}
			if rr.Code != tc.underlying {
				t.Errorf("the client got %d, want %d", rr.Code, tc.underlying)
			}
		})
	}
}

// The wrapper keeps the optional interfaces of the writer it wraps, and only those.
func TestRecordStatus_KeepsOptionalInterfaces(t *testing.T) {
	w, _ := RecordStatus(httptest.NewRecorder())
	f, ok := w.(http.Flusher)
	if !ok {
		t.Fatal("the recorder's Flusher is hidden")
	}
	f.Flush()
	if _, ok := w.(http.Hijacker); ok {
		t.Error("the wrapper claims a Hijacker the underlying writer does not have")
	}
	if err := http.NewResponseController(w).Flush(); err != nil {
		t.Errorf("ResponseController.Flush: %v", err)
	}

	// Behind a real server the writer is a Hijacker and an io.ReaderFrom; bytes copied
	// through ReadFrom count too.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w, rec := RecordStatus(w)
		if _, ok := w.(http.Hijacker); !ok {
			t.Error("the server's Hijacker is hidden")
		}
		rf, ok := w.(io.ReaderFrom)
		if !ok {
			t.Fatal("the server's io.ReaderFrom is hidden")
		}
		if n, err := rf.ReadFrom(strings.NewReader(strings.Repeat("x", 10))); err != nil || n != 10 {
			t.Errorf("ReadFrom: %d, %v", n, err)
		}
		if rec.Status() != http.StatusOK || rec.Bytes() != 10 {
			t.Errorf("recorded %d, %d bytes; want 200, 10", rec.Status(), rec.Bytes())
		}
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if len(body) != 10 {
		t.Errorf("the client got %d bytes, want 10", len(body))
	}
}
