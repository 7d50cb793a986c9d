package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// heldCommands records how many writes each group-commit command carried and holds the
// first command until release is closed, so that tests can line requests up behind it.
type heldCommands struct {
	release chan struct{}

	mu    sync.Mutex
	sizes []int
}

func newHeldCommands() *heldCommands { return &heldCommands{release: make(chan struct{})} }

// sent records a command of n writes, waiting for release if it is the first.
func (h *heldCommands) sent(n int) {
	h.mu.Lock()
	h.sizes = append(h.sizes, n)
	first := len(h.sizes) == 1
	h.mu.Unlock()
	if first {
		<-h.release
	}
}

func (h *heldCommands) commandSizes() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int(nil), h.sizes...)
}

// connect returns a client of the database at uri, disconnected when the test ends.
func connect(t testing.TB, uri string) *mongo.Client {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(time.Second))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
