package cluster

import (
	"bytes"
	"io"
	"log"
	"sync"
)

func newTestLogger(w io.Writer) *log.Logger { return log.New(w, "node: ", 0) }

// syncBuffer is a bytes.Buffer safe for a child's stderr copier and the test.
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
