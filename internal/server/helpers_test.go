package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/impl/cryptpw"
)

// testCost is the cheapest valid SHA-256-crypt cost, so -race runs stay fast.
const testCost = 1000

const testID = "bench@pbs!load"

type fixture struct {
	t      *testing.T
	store  *impl.Store
	v      impl.Verifier
	secret string
}

func newFixture(t *testing.T, verifier string) *fixture {
	t.Helper()
	st, err := impl.OpenStore(filepath.Join(t.TempDir(), "token.shadow"), impl.StoreOptions{Scheme: cryptpw.SHA256, Cost: testCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	v, err := impl.New(verifier, impl.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { impl.Close(v) })
	secret, err := st.Add(context.Background(), testID)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, store: st, v: v, secret: secret}
}

func (f *fixture) server(opts Options) *Server {
	f.t.Helper()
	opts.Verifier = f.v
	opts.Store = f.store
	s, err := New(opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func (f *fixture) header() string { return "PBSAPIToken=" + testID + ":" + f.secret }

// serve runs s on a loopback listener until the test ends, then checks
// that Serve returned nil.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	<-s.Ready()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s.URL()
}

// get sends a GET with an optional Authorization header.
func get(t *testing.T, c *http.Client, url, auth string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// rawRequest writes req verbatim on a new connection and reads one
// response, for headers that net/http's client refuses to send.
func rawRequest(t *testing.T, baseURL, req string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(baseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatal(err)
	}
	return resp, body
}

// syncBuffer collects log output written from server goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
