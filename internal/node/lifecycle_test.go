package node

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbench/authbench/impl"
)

// inotifyInstances counts this process's open inotify instances, the
// resource a leaked notify or fresh verifier keeps.
func inotifyInstances(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.Contains(target, "inotify") {
			n++
		}
	}
	return n
}

func newShadow(t *testing.T) string {
	t.Helper()
	shadow := filepath.Join(t.TempDir(), "token.shadow")
	st, err := impl.OpenStore(shadow, impl.StoreOptions{Cost: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Add(context.Background(), "bench@pbs!t0"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	return shadow
}

// TestNodeReleasesVerifier checks that every way a node ends (served and
// stopped, closed without serving, a failed start after the verifier was
// built) gives back the verifier's inotify instance.
func TestNodeReleasesVerifier(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, cfg Config)
	}{
		{"served", func(t *testing.T, cfg Config) {
			ctx, cancel := context.WithCancel(context.Background())
			n, err := Start(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- n.Serve(ctx) }()
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}},
		{"never served", func(t *testing.T, cfg Config) {
			n, err := Start(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
			if err := n.Close(); err != nil {
				t.Errorf("second close: %v", err)
			}
		}},
		{"ticket setup fails", func(t *testing.T, cfg Config) {
			cfg.TicketStrategy, cfg.AuthkeyDir = "mtime", filepath.Join(t.TempDir(), "missing")
			if _, err := Start(context.Background(), cfg); err == nil {
				t.Fatal("start with a missing auth key directory succeeded")
			}
		}},
		{"admin address taken", func(t *testing.T, cfg Config) {
			first, err := Start(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer first.Close()
			cfg.AdminAddr = strings.TrimPrefix(first.AdminURL(), "http://")
			if _, err := Start(context.Background(), cfg); err == nil {
				t.Fatal("start on a taken admin address succeeded")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, verifier := range []string{"notify", "fresh"} {
				before := inotifyInstances(t)
				tc.run(t, Config{Shadow: newShadow(t), Verifier: verifier, Cost: 1000,
					Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
				if after := inotifyInstances(t); after != before {
					t.Errorf("%s: %d inotify instances before, %d after", verifier, before, after)
				}
			}
		})
	}
}

// TestNodeLoggerReachesVerifier checks that a verifier's degradation
// lines go to the node's logger: renaming the watched directory away
// makes notify fall back to its TTL stat and say so.
func TestNodeLoggerReachesVerifier(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil))
	shadow := newShadow(t)
	serveNode(t, Config{Shadow: shadow, Verifier: "notify", Cost: 1000, Logger: logger})
	dir := filepath.Dir(shadow)
	moved := dir + ".moved"
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	// Put it back so the node's store closes cleanly and TempDir cleanup
	// finds it.
	t.Cleanup(func() { os.Rename(moved, dir) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		out := buf.String()
		mu.Unlock()
		if strings.Contains(out, "falling back to the TTL stat") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no degradation line in the node's log:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
