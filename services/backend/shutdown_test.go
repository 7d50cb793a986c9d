package backend_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestShutdown_FinishesInFlightRequests plays SIGTERM while a request is half sent: the
// request completes, Serve returns nil, new connections are refused, and the request's event
// is either published or still in its item for the next start.
func TestShutdown_FinishesInFlightRequests(t *testing.T) {
	s := newShop(t)
	body, w := io.Pipe()
	req, _ := http.NewRequest("POST", s.URL+"/item", body)
	req.Header.Set("Authorization", "Bearer "+s.Token("seller@example.com"))
	type result struct {
		status int
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			res <- result{err: err}
			return
		}
		_ = resp.Body.Close()
		res <- result{status: resp.StatusCode}
	}()
	if _, err := w.Write([]byte(`{"name":"slow",`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the handler is now reading the body

	stopped := make(chan error, 1)
	go func() { stopped <- s.Shutdown() }()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-stopped:
		t.Fatalf("Serve returned (%v) before the in-flight request finished", err)
	default:
	}
	if _, err := w.Write([]byte(`"price":2}`)); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()

	if r := <-res; r.err != nil || r.status != http.StatusCreated {
		t.Fatalf("in-flight request: %d %v, want 201", r.status, r.err)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("Serve after shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the last request")
	}
	if _, err := http.Get(s.URL + "/items"); err == nil {
		t.Error("a new request was served after shutdown")
	}
	if _, err := http.Get(s.MgmtURL + "/healthz"); err == nil {
		t.Error("the management port still serves after shutdown")
	}

	n, _ := s.DB.Collection("items").CountDocuments(t.Context(), bson.D{})
	if n != 1 {
		t.Fatalf("items = %d, want 1", n)
	}
}
