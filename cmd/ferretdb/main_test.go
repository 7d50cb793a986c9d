package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// syncBuffer collects log output written from FerretDB's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// servingAddr waits for run's "serving" record and returns the address in it: the port
// FerretDB bound for -listen 127.0.0.1:0.
func servingAddr(t *testing.T, logs *syncBuffer, done <-chan error) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		for line := range strings.Lines(logs.String()) {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "serving" {
				return rec.Addr
			}
		}
		select {
		case err := <-done:
			t.Fatalf("run returned %v before serving; logs:\n%s", err, logs.String())
		case <-deadline:
			t.Fatalf("no serving record within 30s; logs:\n%s", logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestRun_ServesMongoDBFromTheDataDirUntilCancelled(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-data", dir}, slog.New(slog.NewJSONHandler(&logs, nil)))
	}()
	addr := servingAddr(t, &logs, done)

	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://" + addr + "/?directConnection=true"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	opCtx, opCancel := context.WithTimeout(ctx, 30*time.Second)
	defer opCancel()
	coll := client.Database("shop").Collection("items")
	if _, err := coll.InsertOne(opCtx, bson.M{"_id": "tea", "price": 3}); err != nil {
		t.Fatal(err)
	}
	var got bson.M
	if err := coll.FindOne(opCtx, bson.M{"_id": "tea"}).Decode(&got); err != nil || got["price"] != int32(3) {
		t.Fatalf("read back %v, %v; want the inserted document", got, err)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite")); len(files) == 0 {
		t.Errorf("no SQLite file in the data directory %s", dir)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v after cancellation, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return within 15s of cancellation")
	}
	for line := range strings.Lines(logs.String()) {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
	if !strings.Contains(logs.String(), `"msg":"serving"`) {
		t.Errorf("logs lack the serving record:\n%s", logs.String())
	}
}

func TestRun_FailsAtOnceWhenTheAddressIsTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	err = run(context.Background(), []string{"-listen", l.Addr().String(), "-data", t.TempDir()}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "cannot listen") {
		t.Errorf("run on a taken port = %v, want a listen error", err)
	}
}

func TestErrorLines_WritesEachRecordAsJSON(t *testing.T) {
	var out bytes.Buffer
	w := errorLines{slog.New(slog.NewJSONHandler(&out, nil))}
	if _, err := w.Write([]byte("time=x level=ERROR msg=\"disk full\"\n")); err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil {
		t.Fatalf("%v: %s", err, out.Bytes())
	}
	if rec["level"] != "ERROR" || !strings.Contains(rec["record"].(string), "disk full") {
		t.Errorf("record %v: want an ERROR carrying FerretDB's line", rec)
	}
}
