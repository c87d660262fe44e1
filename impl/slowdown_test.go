package impl

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// SlowdownEnv names the environment variable that injects a known
// slowdown into every verifier this test binary builds through New, so that
// `bench gate --calibrate` can measure how often the gate catches it. It is
// a fraction of the verifier's hit path: AUTHBENCH_SLOWDOWN=0.10 adds, to
// every accepted Verify, a fixed amount of busy work calibrated once per
// process to 10 % of that verifier's hit. Being in a _test.go file, the hook
// never ships in a real binary.
const SlowdownEnv = "AUTHBENCH_SLOWDOWN"

// slowdownMarker is printed to stderr when the hook is active, so the
// caller can tell "slowed" from "variable ignored by an older build".
const slowdownMarker = "authbench: injected slowdown active: "

// TestMain installs the slowdown hook before any test or benchmark runs,
// and after every package's init, so peers registered from their own
// packages (peers_import_test.go) are slowed too.
func TestMain(m *testing.M) {
	installSlowdown()
	os.Exit(m.Run())
}

// installSlowdown wraps every registered constructor when SlowdownEnv is
// set.
func installSlowdown() {
	f, err := parseSlowdown(os.Getenv(SlowdownEnv))
	if err != nil {
		// Running unslowed would make a calibration silently wrong.
		panic(err)
	}
	if f == 0 {
		return
	}
	fixed, err := parseSlowdownIters(os.Getenv(SlowdownItersEnv))
	if err != nil {
		panic(err)
	}
	cal := newSlowCalibration(f)
	cal.iters = fixed
	registry.mu.Lock()
	for i, s := range registry.specs {
		registry.specs[i].New = slowedConstructor(s.Name, s.New, cal)
	}
	registry.mu.Unlock()
	fmt.Fprintf(os.Stderr, "%s%g\n", slowdownMarker, f)
}

func parseSlowdown(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f >= 0 && f <= 10) {
		return 0, fmt.Errorf("%s=%q: want a fraction in [0, 10]", SlowdownEnv, s)
	}
	return f, nil
}

// spin does n iterations of dependent integer work that the compiler
// cannot drop: the result is returned. Not inlined: inlined copies ran at
// up to twice the calibrated speed, depending on the call site.
//
//go:noinline
func spin(n int64) uint64 {
	x := uint64(n) | 1
	for i := int64(0); i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

// fastest returns the shortest time per call of f over a few chunks, each
// long enough (≥ 1 ms) that the clock's own cost vanishes. The fastest is
// kept: a chunk slowed by preemption or a neighbour would over-slow every
// later call.
func fastest(f func()) time.Duration {
	n := 1
	for {
		t := time.Now()
		for range n {
			f()
		}
		if time.Since(t) >= time.Millisecond || n >= 1<<24 {
			break
		}
		n *= 2
	}
	best := time.Duration(1 << 62)
	for range 5 {
		t := time.Now()
		for range n {
			f()
		}
		best = min(best, time.Since(t))
	}
	return best / time.Duration(n)
}

// slowCalibration holds what is measured once per process: each
// verifier's spin iterations, found lazily the first time that verifier is
// built (a run of two benchmarks does not time all of them), or given
// explicitly by SlowdownItersEnv.
type slowCalibration struct {
	frac float64

	mu    sync.Mutex
	iters map[string]int64 // verifier name → spin iterations per accepted call
}

// SlowdownItersEnv fixes the work per verifier instead of timing it:
// "generation=40,ttl=120" (spin iterations per accepted call). The gate's
// instruction-count calibration sets it from exact counts, so that the
// injected fraction is the intended one in instructions, not in time.
const SlowdownItersEnv = "AUTHBENCH_SLOWDOWN_ITERS"

func newSlowCalibration(frac float64) *slowCalibration {
	return &slowCalibration{frac: frac, iters: map[string]int64{}}
}

// parseSlowdownIters reads SlowdownItersEnv.
func parseSlowdownIters(s string) (map[string]int64, error) {
	out := map[string]int64{}
	if s == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		name, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if _, known := Lookup(name); !ok || err != nil || n < 0 || !known {
			return nil, fmt.Errorf("%s=%q: want VERIFIER=ITERATIONS,... with registered verifiers and counts >= 0", SlowdownItersEnv, s)
		}
		out[name] = n
	}
	return out, nil
}

// itersFor returns the calibrated work of the named verifier, timing its
// hit path on a private store shaped like BenchmarkVerify's the first time.
func (c *slowCalibration) itersFor(name string, build Constructor) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.iters[name]; ok {
		return n, nil
	}
	p, err := measureHit(build)
	if err != nil {
		return 0, fmt.Errorf("slowdown: calibrate %s: %w", name, err)
	}
	n := p.iters(c.frac)
	c.iters[name] = n
	fmt.Fprintf(os.Stderr, "authbench: slowdown %s: hit %v, wrapped %v, %.3g ns/iteration: +%d spin iterations per accepted call\n",
		name, p.plain, p.wrapped, p.perIter, n)
	return n, nil
}

// hitProfile is one verifier's measured hit path: unwrapped, wrapped with
// no extra work, and the cost of one spin iteration inside the wrapper.
type hitProfile struct {
	plain, wrapped time.Duration
	perIter        float64 // ns
}

// iters solves wrapped + n·perIter = (1+frac)·plain: the wrapper's own
// cost counts towards the slowdown, measured end to end rather than on a
// stand-in, since call overhead does not simply add up.
func (p hitProfile) iters(frac float64) int64 {
	if p.perIter <= 0 {
		return 0
	}
	extra := (1+frac)*float64(p.plain) - float64(p.wrapped)
	return int64(max(0, extra/p.perIter))
}

// measureHit times the fastest accepted Verify of a fresh verifier, bare
// and wrapped.
func measureHit(build Constructor) (hitProfile, error) {
	var p hitProfile
	dir, err := os.MkdirTemp("", "authbench-slowdown-")
	if err != nil {
		return p, err
	}
	defer os.RemoveAll(dir)
	s, secret, err := seedBenchStore(filepath.Join(dir, "token.shadow"), 9)
	if err != nil {
		return p, err
	}
	defer s.Close()
	v, err := build(Config{Store: s})
	if err != nil {
		return p, err
	}
	ctx := context.Background()
	for range 3 { // as BenchmarkVerify: warm the cache and the metadata
		if _, err := v.Verify(ctx, tokA, secret); err != nil {
			return p, err
		}
	}
	var verr error
	timeOf := func(v Verifier) time.Duration {
		return fastest(func() {
			if _, err := v.Verify(ctx, tokA, secret); err != nil {
				verr = err
			}
		})
	}
	p.plain = timeOf(v)
	w := &slowVerifier{Verifier: v}
	p.wrapped = timeOf(w)
	// Enough iterations to be timed well above the hit's own noise.
	w.iters = max(1000, int64(float64(p.plain)))
	p.perIter = float64(timeOf(w)-p.wrapped) / float64(w.iters)
	return p, verr
}

// slowVerifier adds the same busy work to every accepted Verify: no
// timing and no sampling on the call path, so the injected cost is fixed
// and means the same under wall time, CPU time and instruction counts.
type slowVerifier struct {
	Verifier
	iters int64
	work  func(int64) uint64 // spin; replaced in tests to count calls
	sink  atomic.Uint64
}

type slowObserver struct {
	*slowVerifier
	MutationObserver
}

func slowedConstructor(name string, c Constructor, cal *slowCalibration) Constructor {
	return func(cfg Config) (Verifier, error) {
		n, err := cal.itersFor(name, c)
		if err != nil {
			return nil, err
		}
		v, err := c(cfg)
		if err != nil {
			return nil, err
		}
		return slowed(v, n), nil
	}
}

// slowed wraps v; a MutationObserver stays one, or cache invalidation
// would silently stop working under the hook.
func slowed(v Verifier, iters int64) Verifier {
	s := &slowVerifier{Verifier: v, iters: iters}
	if o, ok := v.(MutationObserver); ok {
		return slowObserver{s, o}
	}
	return s
}

func (s *slowVerifier) Verify(ctx context.Context, id, secret string) (Outcome, error) {
	out, err := s.Verifier.Verify(ctx, id, secret)
	if err != nil {
		return out, err
	}
	work := s.work
	if work == nil {
		work = spin
	}
	if work(s.iters) == 0 {
		s.sink.Add(1) // practically never; keeps the work observable
	}
	return out, err
}

func TestParseSlowdown(t *testing.T) {
	cases := []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{"", 0, false},
		{"0.10", 0.10, false},
		{"0", 0, false},
		{"-0.1", 0, true},
		{"ten", 0, true},
		{"NaN", 0, true},
		{"11", 0, true},
	}
	for _, c := range cases {
		got, err := parseSlowdown(c.in)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("parseSlowdown(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.wantErr)
		}
	}
}

// TestSlowedKeepsBehaviour checks that the hook changes speed only: the
// verdicts, counters and cache invalidation of every verifier stay intact.
func TestSlowedKeepsBehaviour(t *testing.T) {
	cal := newSlowCalibration(0.5)
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			s, secret := testStoreForSlowdown(t)
			cal.iters[name] = 100 // no timing in tests
			v, err := slowedConstructor(name, mustSpec(t, name).New, cal)(Config{Store: s})
			if err != nil {
				t.Fatal(err)
			}
			_, isObs := v.(MutationObserver)
			inner, _ := mustSpec(t, name).New(Config{Store: s})
			if _, want := inner.(MutationObserver); isObs != want {
				t.Errorf("MutationObserver: got %v, want %v", isObs, want)
			}
			for range 20 {
				if _, err := v.Verify(context.Background(), tokA, secret); err != nil {
					t.Fatalf("valid secret rejected: %v", err)
				}
			}
			if _, err := v.Verify(context.Background(), tokA, "wrong"); err == nil {
				t.Fatal("wrong secret accepted")
			}
			if st := v.Stats(); st.Fast+st.Slow+st.Fallback < 20 || st.Rejected != 1 {
				t.Errorf("stats %+v", st)
			}
			if v.Name() != name {
				t.Errorf("name %q", v.Name())
			}
		})
	}
}

// TestSlowedIsDeterministic checks that every accepted call, and only
// those, does exactly the calibrated work, whatever the outcome.
func TestSlowedIsDeterministic(t *testing.T) {
	s, secret := testStoreForSlowdown(t)
	inner, err := New("ttl", Config{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	var calls, total atomic.Int64
	v := slowed(inner, 1234)
	sv := v.(slowObserver).slowVerifier
	sv.work = func(n int64) uint64 { calls.Add(1); total.Add(n); return 1 }
	ctx := context.Background()
	for range 10 { // the first is a slow path, the rest hits
		if _, err := v.Verify(ctx, tokA, secret); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := v.Verify(ctx, tokA, "wrong"); err == nil {
			t.Fatal("wrong secret accepted")
		}
	}
	if calls.Load() != 10 || total.Load() != 10*1234 {
		t.Errorf("work calls %d, iterations %d; want 10 and %d", calls.Load(), total.Load(), 10*1234)
	}
}

func TestHitProfileIters(t *testing.T) {
	cases := []struct {
		p    hitProfile
		frac float64
		want int64
	}{
		{hitProfile{plain: 1000, wrapped: 1000, perIter: 0.5}, 0.10, 200},
		{hitProfile{plain: 1000, wrapped: 1030, perIter: 0.5}, 0.10, 140}, // the wrapper's 3 % counts
		{hitProfile{plain: 20, wrapped: 25, perIter: 1}, 0.10, 0},         // the wrapper alone is more than 10 %
		{hitProfile{plain: 1000, wrapped: 1000}, 0.10, 0},                 // unmeasurable spin: no work
	}
	for _, c := range cases {
		if got := c.p.iters(c.frac); got != c.want {
			t.Errorf("%+v at %g: %d iterations, want %d", c.p, c.frac, got, c.want)
		}
	}
}

func TestParseSlowdownIters(t *testing.T) {
	got, err := parseSlowdownIters("generation=40, ttl=0")
	if err != nil || got["generation"] != 40 || got["ttl"] != 0 || len(got) != 2 {
		t.Errorf("got %v, %v", got, err)
	}
	for _, bad := range []string{"nosuch=1", "ttl", "ttl=-1", "ttl=x"} {
		if _, err := parseSlowdownIters(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func testStoreForSlowdown(t *testing.T) (*Store, string) {
	t.Helper()
	s, err := OpenStore(t.TempDir()+"/token.shadow", StoreOptions{Scheme: "sha256", Cost: testCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	secret, err := s.Add(context.Background(), tokA)
	if err != nil {
		t.Fatal(err)
	}
	return s, secret
}

// spinVerifier accepts every call after a fixed amount of work.
type spinVerifier struct {
	Verifier
	iters int64
	sink  atomic.Uint64
}

func (v *spinVerifier) Verify(context.Context, string, string) (Outcome, error) {
	if spin(v.iters) == 0 {
		v.sink.Add(1)
	}
	return OutcomeFast, nil
}

// BenchmarkSlowdownHook reports how much slower the calibrated hook makes
// an operation of known cost, as the ratio slowed/plain (target 1+frac):
// it checks the calibration, the wrapper's own cost included.
func BenchmarkSlowdownHook(b *testing.B) {
	for _, iters := range []int64{40, 150, 1000, 100000} {
		b.Run(fmt.Sprintf("op=%diterations", iters), func(b *testing.B) {
			inner := &spinVerifier{iters: iters}
			build := func(Config) (Verifier, error) { return inner, nil }
			p, err := measureHit(build)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			slow := slowed(inner, p.iters(0.10))
			var plain, slowT time.Duration
			const chunk = 1000
			for i := 0; i < b.N; i += chunk {
				t := time.Now()
				for range chunk {
					inner.Verify(ctx, "", "")
				}
				plain += time.Since(t)
				t = time.Now()
				for range chunk {
					slow.Verify(ctx, "", "")
				}
				slowT += time.Since(t)
			}
			b.ReportMetric(float64(slowT)/float64(plain), "slowed/plain")
		})
	}
}

func mustSpec(t testing.TB, name string) Spec {
	t.Helper()
	s, ok := Lookup(name)
	if !ok {
		t.Fatalf("no verifier %q", name)
	}
	return s
}
