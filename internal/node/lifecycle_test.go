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

// newShadow writes a token.shadow with one token and returns its path,
// the token id and its secret.
func newShadow(t *testing.T) (path, id, secret string) {
	t.Helper()
	path, id = filepath.Join(t.TempDir(), "token.shadow"), "bench@pbs!t0"
	st, err := impl.OpenStore(path, impl.StoreOptions{Cost: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if secret, err = st.Add(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	return path, id, secret
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
				shadow, _, _ := newShadow(t)
				tc.run(t, Config{Shadow: shadow, Verifier: verifier, Cost: 1000,
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
	shadow, _, _ := newShadow(t)
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

// TestK8sTakesServerTTL checks that a node's --ttl (a scenario's
// server.ttl) is the k8s peer's success TTL too, in its declared and its
// built bound, and that a change another process makes is seen once it
// has passed.
func TestK8sTakesServerTTL(t *testing.T) {
	for _, tc := range []struct {
		ttl, want time.Duration
	}{
		{0, impl.K8sDefaultSuccessTTL},
		{300 * time.Millisecond, 300 * time.Millisecond},
	} {
		t.Run(tc.ttl.String(), func(t *testing.T) {
			n, _, id, secret := startNodeTTL(t, "k8s", tc.ttl)
			declared, err := impl.DeclaredBound("k8s", impl.Config{TTL: tc.ttl})
			if err != nil {
				t.Fatal(err)
			}
			want := impl.Staleness{Max: tc.want}
			if b := n.Verifier().Bound(); b != declared || b.ManualEdit != want || b.APIOtherProcess != want {
				t.Errorf("built bound %+v, declared %+v, want %s for every change", b, declared, tc.want)
			}
			if tc.ttl == 0 {
				return
			}
			ctx := context.Background()
			if _, err := n.Verifier().Verify(ctx, id, secret); err != nil {
				t.Fatalf("fresh secret rejected: %v", err)
			}
			// Revoke from another process's store: k8s sees no
			// generation, only its success entry expiring.
			other, err := impl.OpenStore(n.cfg.Shadow, impl.StoreOptions{Cost: 1000})
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			if err := other.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
			// Far inside the 10 s default, so passing means the short TTL
			// was used.
			deadline := time.Now().Add(impl.K8sDefaultSuccessTTL / 2)
			for {
				if _, err := n.Verifier().Verify(ctx, id, secret); err != nil {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("revoked secret still accepted after %s with a %s TTL", impl.K8sDefaultSuccessTTL/2, tc.ttl)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}
