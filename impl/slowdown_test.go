package impl

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbench/authbench/impl/cryptpw"
)

// SlowdownEnv names the environment variable that injects a known
// slowdown into every verifier this test binary builds through New, so that
// `bench gate --calibrate` can measure how often the gate catches it. It is
// a fraction: AUTHBENCH_SLOWDOWN=0.10 makes each accepted Verify about 10 %
// slower. Being in a _test.go file, the hook never ships in a real binary.
const SlowdownEnv = "AUTHBENCH_SLOWDOWN"

// slowdownMarker is printed to stderr when the hook is active, so the
// caller can tell "slowed" from "variable ignored by an older build".
const slowdownMarker = "authbench: injected slowdown active: "

func init() {
	f, err := parseSlowdown(os.Getenv(SlowdownEnv))
	if err != nil {
		// Running unslowed would make a calibration silently wrong.
		panic(err)
	}
	if f == 0 {
		return
	}
	rate := spinRate()
	for i := range registry {
		registry[i].New = slowedConstructor(registry[i].New, f, rate)
	}
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

// spinRate measures spin iterations per nanosecond. The fastest of a few
// tries is kept: a try slowed by preemption would over-slow later calls.
func spinRate() float64 {
	const n = 1 << 20
	best := time.Duration(1 << 62)
	var sink uint64
	for range 5 {
		t := time.Now()
		// The result must be used: a discarded one lets the compiler
		// drop the work and the rate comes out several times too high.
		sink += spin(n)
		best = min(best, time.Since(t))
	}
	if sink == 42 {
		best++ // practically never; keeps sink live
	}
	return float64(n) / float64(max(best, 1))
}

// slowVerifier adds busy work proportional to the measured duration of
// each accepted Verify, per outcome (a cache hit and a slow path differ by
// four orders of magnitude). Timing a call costs about as much as a cache
// hit here, so one call in sampleEvery, picked with the runtime's
// per-thread random source (no shared counter: an atomic add alone would
// be a few percent of a hit), is timed and left unslowed; the others carry
// the whole injected share, less the wrapper's own measured overhead.
type slowVerifier struct {
	Verifier
	frac      float64
	rate      float64         // spin iterations per ns
	timerCost int64           // ns a timed empty interval reads
	overhead  float64         // ns the unsampled path costs without spinning
	est       [3]atomic.Int64 // EWMA of the op time in ns, per Outcome
	iters     [3]atomic.Int64 // spin iterations per call, per Outcome
	sink      atomic.Uint64
}

const sampleEvery = 64

type slowObserver struct {
	*slowVerifier
	MutationObserver
}

func slowedConstructor(c Constructor, frac, rate float64) Constructor {
	return func(cfg Config) (Verifier, error) {
		v, err := c(cfg)
		if err != nil {
			return nil, err
		}
		return slowed(v, frac, rate), nil
	}
}

// slowed wraps v; a MutationObserver stays one, or cache invalidation
// would silently stop working under the hook.
func slowed(v Verifier, frac, rate float64) Verifier {
	s := &slowVerifier{Verifier: v, frac: frac, rate: rate}
	s.calibrateOverhead()
	if o, ok := v.(MutationObserver); ok {
		return slowObserver{s, o}
	}
	return s
}

func (s *slowVerifier) Verify(ctx context.Context, id, secret string) (Outcome, error) {
	if rand.Uint64()%sampleEvery == 0 {
		return s.timed(ctx, id, secret)
	}
	out, err := s.Verifier.Verify(ctx, id, secret)
	if err != nil || int(out) >= len(s.est) {
		return out, err
	}
	if s.est[out].Load() == 0 {
		// First accepted call of this outcome: nothing to scale yet.
		return s.timed(ctx, id, secret)
	}
	if x := spin(s.iters[out].Load()); x == 0 {
		s.sink.Add(1) // practically never; keeps the work observable
	}
	return out, err
}

// timed runs one unslowed, timed call and updates its outcome's estimate.
func (s *slowVerifier) timed(ctx context.Context, id, secret string) (Outcome, error) {
	t0 := time.Now()
	out, err := s.Verifier.Verify(ctx, id, secret)
	d := int64(time.Since(t0)) - s.timerCost
	if err != nil || int(out) >= len(s.est) {
		return out, err
	}
	d = max(d, 1)
	est := d
	if old := s.est[out].Load(); old != 0 {
		est = max(old+(d-old)/8, 1)
	}
	s.est[out].Store(est)
	// The sampled calls run unslowed, so the others make up for them.
	target := s.frac*float64(est)*sampleEvery/(sampleEvery-1) - s.overhead
	s.iters[out].Store(int64(max(target, 0) * s.rate))
	return out, err
}

// calibrateOverhead measures the timer and the wrapper's own per-call cost
// (fastest of a few tries, like spinRate) so that they are not counted as
// injected slowdown.
func (s *slowVerifier) calibrateOverhead() {
	best := int64(1 << 62)
	for range 1000 {
		t := time.Now()
		best = min(best, int64(time.Since(t)))
	}
	s.timerCost = best
	const n = 1 << 16
	bestLoop := time.Duration(1 << 62)
	var sink uint64
	for range 3 {
		t := time.Now()
		for range n {
			if rand.Uint64()%sampleEvery == 0 {
				sink++
			}
			sink += spin(s.iters[len(s.iters)-1].Load())
		}
		bestLoop = min(bestLoop, time.Since(t))
	}
	if sink == 42 {
		bestLoop++ // keeps sink live
	}
	s.overhead = float64(bestLoop) / n
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
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			s, secret := testStoreForSlowdown(t)
			v, err := slowedConstructor(mustSpec(t, name).New, 0.5, spinRate())(Config{Store: s})
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

func testStoreForSlowdown(t *testing.T) (*Store, string) {
	t.Helper()
	s, err := OpenStore(t.TempDir()+"/token.shadow", StoreOptions{Scheme: cryptpw.SHA256, Cost: testCost})
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

// BenchmarkSlowdownHook reports how much slower the hook makes an
// operation of known cost, as the ratio slowed/plain (target 1+frac): it
// checks that the hook's own bookkeeping is not counted as injected work.
func BenchmarkSlowdownHook(b *testing.B) {
	rate := spinRate()
	for _, ns := range []float64{40, 150, 1000, 100000} {
		b.Run(fmt.Sprintf("op=%gns", ns), func(b *testing.B) {
			inner := &spinVerifier{iters: int64(ns * rate)}
			slow := slowed(inner, 0.10, rate)
			ctx := context.Background()
			for range 1000 { // settle the estimate
				slow.Verify(ctx, "", "")
			}
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
