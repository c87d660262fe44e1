package impl

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/authbench/authbench/impl/cryptpw"
)

// syncBuffer is a log sink safe for the watch goroutine and the test.
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

// newLoggedFixture is newFixture with a log captured and cfg adjusted.
func newLoggedFixture(t *testing.T, name, path string, adjust func(*Config)) (*fixture, *syncBuffer) {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "token.shadow")
	}
	// The generation file lives apart, so the shadow's directory may be
	// missing or removed.
	s, err := OpenStore(path, StoreOptions{Scheme: cryptpw.SHA256, Cost: testCost, GenerationPath: filepath.Join(t.TempDir(), "gen")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	clk := newFakeClock()
	logs := &syncBuffer{}
	cfg := testConfig(s, clk)
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	if adjust != nil {
		adjust(&cfg)
	}
	v, err := New(name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Close(v) })
	return &fixture{t: t, dir: filepath.Dir(path), store: s, clock: clk, v: v}, logs
}

// eventually polls cond until it holds or a generous deadline passes: for
// effects that arrive asynchronously (inotify), asserting the effect, not
// its latency.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

var lockFree = []string{"snapshot", "notify", "fresh"}

// TestNegativeCacheNeverHidesANewlyValidSecret: a secret rejected (and,
// for verifiers with a negative cache, remembered) that then becomes the
// token's secret is accepted as soon as the change is visible to the
// verifier: at once for API mutations, within the declared manual-edit
// bound for hand edits.
func TestNegativeCacheNeverHidesANewlyValidSecret(t *testing.T) {
	ctx := context.Background()
	changes := []struct {
		name  string
		bound func(Bound) Staleness
		apply func(f *fixture, secret string)
	}{
		{"api-same-process", func(b Bound) Staleness { return b.APISameProcess }, func(f *fixture, s string) {
			if err := f.store.Set(ctx, tokA, s); err != nil {
				f.t.Fatal(err)
			}
		}},
		{"api-other-process", func(b Bound) Staleness { return b.APIOtherProcess }, func(f *fixture, s string) {
			if err := f.other().Set(ctx, tokA, s); err != nil {
				f.t.Fatal(err)
			}
		}},
		{"manual-edit", func(b Bound) Staleness { return b.ManualEdit }, func(f *fixture, s string) {
			h, err := cryptpw.Hash(cryptpw.SHA256, testCost, s)
			if err != nil {
				f.t.Fatal(err)
			}
			if err := ManualEdit(f.store.Path(), func(m map[string]string) error { m[tokA] = h; return nil }); err != nil {
				f.t.Fatal(err)
			}
		}},
	}
	for _, name := range Names() {
		for _, c := range changes {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				f := newFixture(t, name)
				old := f.add(tokA)
				f.warm(tokA, old)
				next, _ := NewSecret()
				for range 5 {
					if f.accepts(tokA, next) {
						t.Fatal("not-yet-valid secret accepted")
					}
				}
				c.apply(f, next)
				if b := c.bound(f.v.Bound()); !b.Unbounded && b.Max > 0 {
					f.advance(b.Max)
				}
				if !f.accepts(tokA, next) {
					t.Errorf("secret rejected after it became valid and the change was visible (bound %s)", c.bound(f.v.Bound()))
				}
			})
		}
	}
}

// TestNegativeCacheBoundedUnderFlood: a million distinct wrong secrets
// leave at most NegativeSize entries (32-byte digest + 8-byte expiry each,
// never the secret), and a flood through the verifier keeps the bound and
// fails closed.
func TestNegativeCacheBoundedUnderFlood(t *testing.T) {
	const distinct = 1_000_000
	n := newNegCache(time.Minute, 0)
	now := time.Now()
	for i := range distinct {
		var d digest // distinct digests; computing a million HMACs adds nothing here
		binary.BigEndian.PutUint64(d[:], uint64(i))
		n.add(1, d, now)
	}
	if got := n.len(); got > DefaultNegativeSize {
		t.Fatalf("%d entries after %d distinct failures, bound %d", got, distinct, DefaultNegativeSize)
	}
	if bytes := n.len() * (len(digest{}) + 8); bytes > 200<<10 {
		t.Errorf("payload %d bytes, want at most 200 KiB", bytes)
	}

	// Through the verifier: an unknown id costs no hash, so the flood is
	// quick; every request must still be rejected.
	f, _ := newLoggedFixture(t, "fresh", "", func(c *Config) { c.NegativeSize = 64 })
	sa := f.add(tokA)
	for i := range 5000 {
		if f.accepts("nobody@pbs!flood", fmt.Sprintf("wrong-%d", i)) {
			t.Fatal("flood secret accepted")
		}
	}
	if got := coreOf(t, f.v).neg.len(); got > 64 {
		t.Errorf("negative cache holds %d entries, bound 64", got)
	}
	if !f.accepts(tokA, sa) {
		t.Error("valid secret rejected after the flood")
	}
}

// TestNegativeCacheRepeatedWrongSecret: one hash, then fast rejects, and
// a generation change clears it.
func TestNegativeCacheRepeatedWrongSecret(t *testing.T) {
	f := newFixture(t, "fresh")
	f.add(tokA)
	before := f.v.Stats()
	for range 100 {
		f.accepts(tokA, "wrong")
	}
	d := f.v.Stats().Sub(before)
	if d.Slow != 1 || d.Negative != 99 || d.Rejected != 100 {
		t.Errorf("%+v, want 1 hash and 99 negative hits", d)
	}
	f.store.Generation().Bump()
	before = f.v.Stats()
	f.accepts(tokA, "wrong")
	if d := f.v.Stats().Sub(before); d.Slow != 1 {
		t.Errorf("after a generation change: %+v, want the negative entry gone (1 slow)", d)
	}
	// Expiry on the (injected) clock.
	f.accepts(tokA, "wrong")
	f.clock.Advance(DefaultNegativeTTL)
	before = f.v.Stats()
	f.accepts(tokA, "wrong")
	if d := f.v.Stats().Sub(before); d.Slow != 1 {
		t.Errorf("after the failure TTL: %+v, want 1 slow", d)
	}
}

// TestSingleFlightOneHash: N concurrent verifications of one (id, secret)
// after a reset share one hash; N distinct tokens need N.
func TestSingleFlightOneHash(t *testing.T) {
	const n = 8
	// A slow hash so the goroutines overlap; the barrier below starts
	// them together. Scheduling can still split them, so a few attempts.
	for attempt := range 5 {
		dir := t.TempDir()
		s, err := OpenStore(filepath.Join(dir, "token.shadow"), StoreOptions{Scheme: cryptpw.SHA256, Cost: 400_000})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		sec, err := s.Add(context.Background(), tokA)
		if err != nil {
			t.Fatal(err)
		}
		v, err := New("fresh", Config{Store: s})
		if err != nil {
			t.Fatal(err)
		}
		defer Close(v)
		s.Generation().Bump() // a reset: every request misses
		before := v.Stats()
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				<-start
				_, err := v.Verify(context.Background(), tokA, sec)
				errs <- err
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("valid secret rejected: %v", err)
			}
		}
		d := v.Stats().Sub(before)
		if d.Slow == 1 && d.Shared == n-1 {
			return
		}
		t.Logf("attempt %d: %+v (goroutines did not overlap)", attempt, d)
	}
	t.Errorf("%d concurrent identical verifications never shared one hash", n)
}

// TestLockFreeVerifiersHitPathNeverStats: the hit path reads no file.
func TestLockFreeVerifiersHitPathNeverStats(t *testing.T) {
	for _, name := range lockFree {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, name)
			sa := f.add(tokA)
			f.warm(tokA, sa)
			before := f.v.Stats()
			for range 1000 {
				f.accepts(tokA, sa)
			}
			if d := f.v.Stats().Sub(before); d.Fast != 1000 || d.Stat > 1 || d.Fallback != 0 {
				// One stat is allowed: the API add's own inotify event.
				t.Errorf("%+v, want 1000 fast hits, no fallbacks, at most one stat", d)
			}
		})
	}
}

// TestNotifySeesManualEditWithoutTTL: with the clock frozen, only an
// inotify event can make the verifier look at the file.
func TestNotifySeesManualEditWithoutTTL(t *testing.T) {
	for _, name := range []string{"notify", "fresh"} {
		for _, edit := range []string{"manual-revoke", "same-length-restore"} {
			t.Run(name+"/"+edit, func(t *testing.T) {
				f := newFixture(t, name)
				old := f.add(tokA)
				f.add(tokB)
				f.warm(tokA, old)
				if edit == "manual-revoke" {
					if err := ManualRevoke(f.store.Path(), tokA); err != nil {
						t.Fatal(err)
					}
				} else {
					_, h := freshHashT(t)
					if err := ManualRewriteKeepMtime(f.store.Path(), func(m map[string]string) error { m[tokA] = h; return nil }); err != nil {
						t.Fatal(err)
					}
				}
				eventually(t, "old secret rejected after "+edit, func() bool { return !f.accepts(tokA, old) })
			})
		}
	}
}

func freshHashT(t *testing.T) (string, string) {
	t.Helper()
	sec, _ := NewSecret()
	h, err := cryptpw.Hash(cryptpw.SHA256, testCost, sec)
	if err != nil {
		t.Fatal(err)
	}
	return sec, h
}

// TestSnapshotWarmsManyTokens: 10,000 distinct verified tokens inserted
// one by one all hit afterwards, and the geometric merges left most of
// them in the plain map (BenchmarkWarm times it; hashing is left out here
// because it would dominate, not because it changes the structure).
func TestSnapshotWarmsManyTokens(t *testing.T) {
	for _, name := range []string{"snapshot", "fresh"} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, name)
			c := coreOf(t, f.v)
			s, err := c.refresh()
			if err != nil {
				t.Fatal(err)
			}
			const n = 10_000
			for i := range n {
				id := fmt.Sprintf("user%d@pbs!t", i)
				c.insert(s.version, s.gen, id, c.stored(id, "secret-"+id))
			}
			cur := c.cur.Load()
			for i := range n {
				id := fmt.Sprintf("user%d@pbs!t", i)
				if !c.matches(cur, id, "secret-"+id) {
					t.Fatalf("token %d does not hit", i)
				}
			}
			if len(cur.frozen) < n/2 {
				t.Errorf("%d of %d in the plain map: merges did not happen", len(cur.frozen), n)
			}
		})
	}
}

func coreOf(t *testing.T, v Verifier) *snapCore {
	t.Helper()
	switch v := v.(type) {
	case *snapCore:
		return v
	case *watchedCore:
		return v.snapCore
	}
	t.Fatalf("%s is not lock-free", v.Name())
	return nil
}

// TestLockFreeBadShadow: a directory or a symlink in place of the shadow,
// or a stat that fails (an unreadable directory), makes the verifier
// reject everything, with one log line saying why, and recover.
func TestLockFreeBadShadow(t *testing.T) {
	breaks := []struct {
		name, log string
		apply     func(t *testing.T, f *fixture)
	}{
		{"directory", "not a regular file", func(t *testing.T, f *fixture) {
			mustDo(t, os.Remove(f.store.Path()))
			mustDo(t, os.Mkdir(f.store.Path(), 0o700))
		}},
		{"symlink", "not a regular file", func(t *testing.T, f *fixture) {
			copyPath := f.store.Path() + ".copy"
			data, err := os.ReadFile(f.store.Path())
			mustDo(t, err)
			mustDo(t, os.WriteFile(copyPath, data, 0o600))
			mustDo(t, os.Remove(f.store.Path()))
			mustDo(t, os.Symlink(copyPath, f.store.Path()))
		}},
		{"stat-fails", "cannot stat", func(t *testing.T, f *fixture) {
			f.store.SetStatFilter(func(FileMeta, error) (FileMeta, error) {
				return FileMeta{}, &os.PathError{Op: "stat", Path: f.store.Path(), Err: syscall.EACCES}
			})
		}},
	}
	for _, name := range lockFree {
		for _, b := range breaks {
			t.Run(name+"/"+b.name, func(t *testing.T) {
				f, logs := newLoggedFixture(t, name, "", nil)
				sa := f.add(tokA)
				good, err := os.ReadFile(f.store.Path())
				mustDo(t, err)
				f.warm(tokA, sa)
				b.apply(t, f)
				f.advance(f.v.Bound().ManualEdit.Max)
				for range 3 {
					if f.accepts(tokA, sa) {
						t.Fatal("accepted with a broken shadow")
					}
				}
				if got := strings.Count(logs.String(), "level=WARN"); got != 1 || !strings.Contains(logs.String(), b.log) {
					t.Errorf("log has %d lines with %q, want 1:\n%s", got, b.log, logs.String())
				}
				// Repair: a regular file again.
				f.store.SetStatFilter(nil)
				os.RemoveAll(f.store.Path())
				mustDo(t, os.WriteFile(f.store.Path(), good, 0o640))
				f.advance(f.v.Bound().ManualEdit.Max)
				if !f.accepts(tokA, sa) {
					t.Error("did not recover once the shadow was a regular file again")
				}
				if !strings.Contains(logs.String(), "usable again") {
					t.Errorf("recovery not logged:\n%s", logs.String())
				}
			})
		}
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestWatchDegrades: a watch that cannot be set up, and one whose
// directory is removed, each log one line and leave the TTL check.
func TestWatchDegrades(t *testing.T) {
	t.Run("cannot-watch", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "missing")
		f, logs := newLoggedFixture(t, "notify", filepath.Join(dir, "token.shadow"), nil)
		if !strings.Contains(logs.String(), "inotify watch unavailable") {
			t.Fatalf("no degradation logged:\n%s", logs.String())
		}
		if f.accepts(tokA, "x") {
			t.Fatal("accepted without a shadow")
		}
		// The TTL check still works once the directory and file appear.
		mustDo(t, os.MkdirAll(dir, 0o700))
		sa := f.add(tokA)
		f.warm(tokA, sa)
		mustDo(t, ManualRevoke(f.store.Path(), tokA))
		f.advance(f.v.Bound().ManualEdit.Max)
		if f.accepts(tokA, sa) {
			t.Error("manual revoke not seen after the TTL without a watch")
		}
	})
	t.Run("directory-removed", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "d")
		mustDo(t, os.Mkdir(dir, 0o700))
		f, logs := newLoggedFixture(t, "fresh", filepath.Join(dir, "token.shadow"), nil)
		sa := f.add(tokA)
		f.warm(tokA, sa)
		mustDo(t, os.RemoveAll(dir))
		eventually(t, "directory removal logged:\n"+logs.String(), func() bool { return strings.Contains(logs.String(), "watched directory removed") })
		if f.accepts(tokA, sa) {
			t.Error("accepted after the shadow's directory was removed")
		}
		if got := strings.Count(logs.String(), "falling back"); got != 1 {
			t.Errorf("%d fallback lines, want 1:\n%s", got, logs.String())
		}
	})
}

// TestVerifyErrorsNeverCarrySecrets: the new verifiers' errors and logs
// never include the presented secret.
func TestVerifyErrorsNeverCarrySecrets(t *testing.T) {
	for _, name := range append(lockFree, "k8s") {
		t.Run(name, func(t *testing.T) {
			f, logs := newLoggedFixture(t, name, "", nil)
			f.add(tokA)
			const secret = "5ec12e7-not-the-secret-but-presented"
			for range 3 {
				_, err := f.v.Verify(context.Background(), tokA, secret)
				if err == nil || !errors.Is(err, ErrRejected) {
					t.Fatalf("want a rejection, got %v", err)
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error carries the secret: %v", err)
				}
			}
			if strings.Contains(logs.String(), secret) {
				t.Fatal("log carries the secret")
			}
		})
	}
}

// TestWatchOverflowForcesCheck: a queue overflow (lost events) forces a
// check like an event would, and is logged once however often it recurs;
// events on other files in the directory are ignored.
func TestWatchOverflowForcesCheck(t *testing.T) {
	logs := &syncBuffer{}
	var changes atomic.Int64
	w := &fsnotify.Watcher{Events: make(chan fsnotify.Event), Errors: make(chan error)}
	sw := &shadowWatch{w: w, dir: "/srv", name: "token.shadow", onChange: func() { changes.Add(1) },
		log: slog.New(slog.NewTextHandler(logs, nil)), done: make(chan struct{})}
	go sw.run()
	w.Errors <- fsnotify.ErrEventOverflow
	w.Errors <- fsnotify.ErrEventOverflow
	w.Events <- fsnotify.Event{Name: "/srv/token.shadow", Op: fsnotify.Write}
	w.Events <- fsnotify.Event{Name: "/srv/token.shadow.tmp_1", Op: fsnotify.Create}
	close(w.Events)
	<-sw.done
	if got := changes.Load(); got != 3 {
		t.Errorf("%d forced checks, want 3 (two overflows, one event on the shadow)", got)
	}
	if got := strings.Count(logs.String(), "overflowed"); got != 1 {
		t.Errorf("%d overflow log lines, want 1:\n%s", got, logs.String())
	}
	if !sw.degraded.Load() {
		t.Error("overflow did not mark the watch degraded")
	}
}
