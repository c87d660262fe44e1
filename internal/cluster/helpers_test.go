package cluster

import (
	"bytes"
	"io"
	"log"
)

func newTestLogger(w io.Writer) *log.Logger { return log.New(w, "node: ", 0) }

// logBuffer collects a child's stderr through the driver's syncWriter so
// the test can read it while the child runs.
type logBuffer struct{ syncWriter }

func newLogBuffer() *logBuffer { return &logBuffer{syncWriter{w: &bytes.Buffer{}}} }

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.(*bytes.Buffer).String()
}
