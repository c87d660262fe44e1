package impl

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbench/authbench/impl/cryptpw"
)

// Tests hash with the cheapest valid SHA-256-crypt cost so the suite stays
// fast under -race; the verifiers' logic does not depend on the cost.
const testCost = 1000

// fakeClock is an injectable clock so TTL tests need no sleeps.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

type fixture struct {
	t     *testing.T
	dir   string
	store *Store
	clock *fakeClock
	v     Verifier
}

// wallClockTTL is a peer's success TTL in tests (the k8s peer's): its
// cache expires on the wall clock (no clock can be injected into it), so
// tests wait this long instead of advancing the fake clock.
const wallClockTTL = 150 * time.Millisecond

// wallClock reports whether the named verifier's TTLs ignore Config.Clock
// (Spec.WallClock).
func wallClock(name string) bool {
	s, _ := Lookup(name)
	return s.WallClock
}

// testConfig is the configuration every conformance fixture uses.
func testConfig(s *Store, clk *fakeClock) Config {
	return Config{Store: s, Clock: clk.Now, TTL: time.Minute, SuccessTTL: wallClockTTL}
}

// advance moves the fake clock and, for wall-clock verifiers, waits long
// enough for their TTL to pass too (the bound is waited for, not timed).
func (f *fixture) advance(d time.Duration) {
	f.clock.Advance(d)
	if wallClock(f.v.Name()) {
		time.Sleep(min(d, wallClockTTL) + 20*time.Millisecond)
	}
}

func newFixture(t *testing.T, name string) *fixture {
	t.Helper()
	dir := t.TempDir()
	s, err := OpenStore(filepath.Join(dir, "token.shadow"), StoreOptions{Scheme: cryptpw.SHA256, Cost: testCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	clk := newFakeClock()
	v, err := New(name, testConfig(s, clk))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Close(v) })
	return &fixture{t: t, dir: dir, store: s, clock: clk, v: v}
}

// other opens the same shadow and generation as a separate Store with no
// verifier attached: another process, as far as the verifier can tell.
func (f *fixture) other() *Store {
	f.t.Helper()
	s, err := OpenStore(f.store.Path(), StoreOptions{Scheme: cryptpw.SHA256, Cost: testCost})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { s.Close() })
	return s
}

func (f *fixture) add(id string) string {
	f.t.Helper()
	sec, err := f.store.Add(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return sec
}

func (f *fixture) accepts(id, secret string) bool {
	f.t.Helper()
	_, err := f.v.Verify(context.Background(), id, secret)
	if err != nil && !errors.Is(err, ErrRejected) {
		f.t.Fatalf("verify error not wrapping ErrRejected: %v", err)
	}
	return err == nil
}

// warm verifies twice so that caching verifiers hold the secret and have
// seen the current file metadata.
func (f *fixture) warm(id, secret string) {
	f.t.Helper()
	for range 3 {
		if !f.accepts(id, secret) {
			f.t.Fatalf("%s: valid secret rejected while warming", f.v.Name())
		}
	}
}

const tokA, tokB = "alice@pbs!ci", "bob@pam!monitor"

func TestBasicAcceptReject(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, name)
			sa := f.add(tokA)
			f.add(tokB)
			cases := []struct {
				desc   string
				id     string
				secret string
				want   bool
			}{
				{"valid", tokA, sa, true},
				{"valid again", tokA, sa, true},
				{"wrong secret", tokA, "00000000-0000-4000-8000-000000000000", false},
				{"secret of another token", tokB, sa, false},
				{"unknown id", "carol@pbs!x", sa, false},
				{"malformed id", "alice@pbs", sa, false},
				{"id with colon", "alice@pbs!c:i", sa, false},
				{"empty secret", tokA, "", false},
				{"secret prefix", tokA, sa[:35], false},
			}
			for _, c := range cases {
				if got := f.accepts(c.id, c.secret); got != c.want {
					t.Errorf("%s: accepted=%v, want %v", c.desc, got, c.want)
				}
			}
		})
	}
}

// negativeCached lists the verifiers with a negative cache: a repeated
// wrong secret is hashed once, then rejected from it.
var negativeCached = map[string]bool{"fresh": true}

func TestWrongSecretsAreNeverCached(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, name)
			sa := f.add(tokA)
			f.warm(tokA, sa)
			before := f.v.Stats()
			for range 5 {
				if f.accepts(tokA, "wrong") {
					t.Fatal("wrong secret accepted")
				}
			}
			d := f.v.Stats().Sub(before)
			want := Stats{Slow: 5, Rejected: 5}
			if negativeCached[name] {
				want = Stats{Slow: 1, Rejected: 5, Negative: 4}
			}
			if got := (Stats{Fast: d.Fast, Slow: d.Slow, Rejected: d.Rejected, Negative: d.Negative}); got != want {
				t.Errorf("wrong secrets: %+v, want %+v", d, want)
			}
		})
	}
}

func TestCachedVerifiersHitFastPath(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, name)
			sa := f.add(tokA)
			f.warm(tokA, sa)
			before := f.v.Stats()
			for range 10 {
				f.accepts(tokA, sa)
			}
			d := f.v.Stats().Sub(before)
			if name == "uncached" {
				if d.Slow != 10 {
					t.Errorf("uncached: %+v, want 10 slow", d)
				}
				return
			}
			if d.Fast != 10 || d.Slow != 0 {
				t.Errorf("%s: %+v, want 10 fast hits", name, d)
			}
		})
	}
}

// TestStalenessBounds runs each kind of change against every verifier and
// checks the observed behaviour against the verifier's declared Bound.
func TestStalenessBounds(t *testing.T) {
	type change struct {
		name  string
		bound func(Bound) Staleness
		apply func(f *fixture, oldSecret string) (newSecret string)
	}
	ctx := context.Background()
	changes := []change{
		{"api-revoke-same-process", func(b Bound) Staleness { return b.APISameProcess }, func(f *fixture, _ string) string {
			if err := f.store.Delete(ctx, tokA); err != nil {
				f.t.Fatal(err)
			}
			return ""
		}},
		{"api-rotate-same-process", func(b Bound) Staleness { return b.APISameProcess }, func(f *fixture, _ string) string {
			s, err := f.store.Rotate(ctx, tokA)
			if err != nil {
				f.t.Fatal(err)
			}
			return s
		}},
		{"api-revoke-other-process", func(b Bound) Staleness { return b.APIOtherProcess }, func(f *fixture, _ string) string {
			if err := f.other().Delete(ctx, tokA); err != nil {
				f.t.Fatal(err)
			}
			return ""
		}},
		{"api-rotate-other-process", func(b Bound) Staleness { return b.APIOtherProcess }, func(f *fixture, _ string) string {
			s, err := f.other().Rotate(ctx, tokA)
			if err != nil {
				f.t.Fatal(err)
			}
			return s
		}},
		{"manual-revoke", func(b Bound) Staleness { return b.ManualEdit }, func(f *fixture, _ string) string {
			if err := ManualRevoke(f.store.Path(), tokA); err != nil {
				f.t.Fatal(err)
			}
			return ""
		}},
		{"same-length-restore", func(b Bound) Staleness { return b.SameLenRestore }, func(f *fixture, _ string) string {
			fresh, _ := NewSecret()
			h, err := cryptpw.Hash(cryptpw.SHA256, testCost, fresh)
			if err != nil {
				f.t.Fatal(err)
			}
			if err := ManualRewriteKeepMtime(f.store.Path(), func(m map[string]string) error { m[tokA] = h; return nil }); err != nil {
				f.t.Fatal(err)
			}
			return fresh
		}},
	}
	for _, name := range Names() {
		for _, c := range changes {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				f := newFixture(t, name)
				old := f.add(tokA)
				f.add(tokB)
				f.warm(tokA, old)
				newSecret := c.apply(f, old)
				bound := c.bound(f.v.Bound())
				staleNow := f.accepts(tokA, old)
				switch {
				case bound.Unbounded:
					// The declared blind spot must be real, or the bound
					// overstates the risk: after a long time it still passes.
					f.advance(24 * time.Hour)
					if !f.accepts(tokA, old) {
						t.Errorf("declared unbounded, but the old secret was rejected (bound overstated)")
					}
				case bound.Max == 0:
					if staleNow {
						t.Errorf("old secret accepted after the change; declared bound 0")
					}
				default:
					if !staleNow {
						t.Logf("old secret already rejected inside a %s bound", bound.Max)
					}
					f.advance(bound.Max)
					if f.accepts(tokA, old) {
						t.Errorf("old secret still accepted %s after the change; declared bound %s", bound.Max, bound.Max)
					}
				}
				if newSecret != "" && !f.accepts(tokA, newSecret) {
					t.Errorf("new secret rejected")
				}
				// Unrelated tokens keep working.
				if f.accepts(tokB, "definitely-wrong") {
					t.Errorf("wrong secret for B accepted")
				}
			})
		}
	}
}

// TestGenerationOtherProcessThenOwnMutation pins PBS's stage-1 hole: an
// other-process revoke followed by an own-process API mutation, with no
// request in between, re-stamps the stale cache as current. The mtime and
// ttl stages catch it through the pre-write metadata comparison.
func TestGenerationOtherProcessThenOwnMutation(t *testing.T) {
	ctx := context.Background()
	// k8s sees no generation: within its TTL the revoked secret passes.
	wantStale := map[string]bool{"generation": true, "k8s": true}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, name)
			old := f.add(tokA)
			f.warm(tokA, old)
			if err := f.other().Delete(ctx, tokA); err != nil {
				t.Fatal(err)
			}
			f.add(tokB)
			if got := f.accepts(tokA, old); got != wantStale[name] {
				t.Errorf("revoked secret accepted=%v, want %v", got, wantStale[name])
			}
		})
	}
}

func TestTTLWindowSkipsStat(t *testing.T) {
	f := newFixture(t, "ttl")
	sa := f.add(tokA)
	f.warm(tokA, sa)
	before := f.v.Stats()
	for range 100 {
		f.accepts(tokA, sa)
	}
	if d := f.v.Stats().Sub(before); d.Stat != 0 || d.Fast != 100 {
		t.Errorf("inside the TTL: %+v, want 100 fast hits and no stat", d)
	}
	f.clock.Advance(time.Minute)
	f.accepts(tokA, sa)
	if d := f.v.Stats().Sub(before); d.Stat != 1 {
		t.Errorf("after the TTL: %d stats, want 1", d.Stat)
	}
}

func TestMtimeStatsEveryRequest(t *testing.T) {
	f := newFixture(t, "mtime")
	sa := f.add(tokA)
	f.warm(tokA, sa)
	before := f.v.Stats()
	for range 10 {
		f.accepts(tokA, sa)
	}
	if d := f.v.Stats().Sub(before); d.Stat != 10 {
		t.Errorf("mtime: %d stats for 10 requests", d.Stat)
	}
}

// TestFirstRequestAfterResetIsSlow: a generation change empties the cache,
// so the next request must re-verify against the file.
func TestFirstRequestAfterResetIsSlow(t *testing.T) {
	for _, name := range []string{"generation", "mtime", "ttl", "snapshot", "notify", "fresh"} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, name)
			sa := f.add(tokA)
			f.warm(tokA, sa)
			f.store.Generation().Bump() // someone else changed something
			before := f.v.Stats()
			if !f.accepts(tokA, sa) {
				t.Fatal("valid secret rejected")
			}
			if d := f.v.Stats().Sub(before); d.Slow != 1 || d.Fast != 0 {
				t.Errorf("%+v, want the first request after a reset on the slow path", d)
			}
		})
	}
}

func TestMtimeDetectedChangePropagatesThroughGeneration(t *testing.T) {
	f := newFixture(t, "mtime")
	sa := f.add(tokA)
	f.warm(tokA, sa)
	g := f.store.Generation().Load()
	if err := ManualRevoke(f.store.Path(), tokA); err != nil {
		t.Fatal(err)
	}
	if f.accepts(tokA, sa) {
		t.Fatal("manually revoked secret accepted")
	}
	if f.store.Generation().Load() == g {
		t.Error("detected manual edit did not bump the shared generation")
	}
}

// TestConcurrentVerifyDuringRotation hammers each verifier from many
// goroutines while tokens are rotated in this process and in a second
// Store; no verification that starts after a rotation completed may accept
// the replaced secret (every verifier declares 0 for API mutations).
func TestConcurrentVerifyDuringRotation(t *testing.T) {
	ctx := context.Background()
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, name)
			other := f.other()
			type secretState struct {
				secret    string
				revoked   atomic.Bool
				revokedAt atomic.Int64 // wall-clock ns
			}
			// Every verifier but the k8s peer declares 0 for API
			// mutations; the peer's bound runs on the wall clock.
			bound := f.v.Bound().APISameProcess.Max
			if ob := f.v.Bound().APIOtherProcess.Max; ob > bound {
				bound = ob
			}
			var mu sync.Mutex
			history := []*secretState{{secret: f.add(tokA)}}
			f.add(tokB)
			stop := make(chan struct{})
			var violations, accepted atomic.Int64
			var wg sync.WaitGroup
			// Four verifying goroutines on top of the rotating one keep both
			// cores busy; more only lengthen the run under -race.
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(w), 1))
					for {
						select {
						case <-stop:
							return
						default:
						}
						mu.Lock()
						st := history[r.IntN(len(history))]
						if r.IntN(2) == 0 {
							st = history[len(history)-1]
						}
						mu.Unlock()
						revokedBefore := st.revoked.Load()
						start := time.Now()
						if _, err := f.v.Verify(context.Background(), tokA, st.secret); err == nil {
							accepted.Add(1)
							if revokedBefore && start.Sub(time.Unix(0, st.revokedAt.Load())) >= bound {
								violations.Add(1)
							}
						}
					}
				}()
			}
			for i := range 8 {
				s := f.store
				if i%2 == 1 {
					s = other
				}
				sec, err := s.Rotate(ctx, tokA)
				if err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				history[len(history)-1].revokedAt.Store(time.Now().UnixNano())
				history[len(history)-1].revoked.Store(true)
				history = append(history, &secretState{secret: sec})
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
			close(stop)
			wg.Wait()
			if v := violations.Load(); v > 0 {
				t.Errorf("%d verifications accepted a secret revoked before they started", v)
			}
			if accepted.Load() == 0 {
				t.Error("no verification succeeded: the test exercised nothing")
			}
		})
	}
}

// TestMutationFromSecondOSProcess re-executes the test binary to delete a
// token: the shared generation must carry the change across processes.
// One helper process deletes it from every verifier's shadow (one re-exec
// of the race-built binary instead of one per verifier).
func TestMutationFromSecondOSProcess(t *testing.T) {
	// notify is fresh without its extras.
	names := []string{"generation", "mtime", "ttl", "snapshot", "fresh", "k8s"}
	fixtures := make([]*fixture, len(names))
	olds := make([]string, len(names))
	var shadows []string
	for i, name := range names {
		fixtures[i] = newFixture(t, name)
		olds[i] = fixtures[i].add(tokA)
		fixtures[i].warm(tokA, olds[i])
		shadows = append(shadows, fixtures[i].store.Path())
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), noRaceExitSleep(), "AUTHBENCH_HELPER=delete", "AUTHBENCH_SHADOW="+strings.Join(shadows, string(os.PathListSeparator)), "AUTHBENCH_TOKEN="+tokA)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper process: %v\n%s", err, out)
	}
	for i, f := range fixtures {
		if b := f.v.Bound().APIOtherProcess; b.Max > 0 {
			f.advance(b.Max)
		}
		if f.accepts(tokA, olds[i]) {
			t.Errorf("%s: secret deleted by another OS process still accepted", names[i])
		}
	}
}

// TestHelperProcess is not a test: it is the second process of
// TestMutationFromSecondOSProcess.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("AUTHBENCH_HELPER") == "" {
		t.Skip("helper process only")
	}
	for _, shadow := range filepath.SplitList(os.Getenv("AUTHBENCH_SHADOW")) {
		s, err := OpenStore(shadow, StoreOptions{Cost: testCost})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		if err := s.Delete(context.Background(), os.Getenv("AUTHBENCH_TOKEN")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		s.Close()
	}
}

func TestUnknownVerifier(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(filepath.Join(dir, "token.shadow"), StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := New("nope", Config{Store: s}); err == nil {
		t.Fatal("unknown verifier accepted")
	}
}

// TestDeclaredBoundMatchesBuilt pins the registry's declared data to what
// a built verifier reports, for the default and a custom TTL.
func TestDeclaredBoundMatchesBuilt(t *testing.T) {
	for _, spec := range Specs() {
		for _, ttl := range []time.Duration{0, 3 * time.Second} {
			t.Run(fmt.Sprintf("%s/ttl=%s", spec.Name, ttl), func(t *testing.T) {
				s, err := OpenStore(filepath.Join(t.TempDir(), "token.shadow"), StoreOptions{Scheme: cryptpw.SHA256, Cost: testCost})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				v, err := New(spec.Name, Config{Store: s, TTL: ttl})
				if err != nil {
					t.Fatal(err)
				}
				defer Close(v)
				want, err := DeclaredBound(spec.Name, Config{TTL: ttl})
				if err != nil {
					t.Fatal(err)
				}
				if got := v.Bound(); got != want {
					t.Errorf("built verifier's bound %+v, declared %+v", got, want)
				}
			})
		}
	}
	if _, err := DeclaredBound("no-such", Config{}); err == nil {
		t.Error("DeclaredBound of an unknown verifier: want an error")
	}
}
