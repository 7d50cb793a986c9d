package testinfra

import (
	"bytes"
	"sync"
)

// SyncBuffer collects a service's log lines, written from many goroutines, for a test to
// read (e.g. to assert that a secret never reaches them, or that a line carries a trace id).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
