package impl

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbench/authbench/internal/cryptpw"
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
	for name, c := range registry {
		registry[name] = slowedConstructor(c, f, rate)
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
// cannot drop: the result is returned.
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
	for range 5 {
		t := time.Now()
		spin(n)
		best = min(best, time.Since(t))
	}
	return float64(n) / float64(max(best, 1))
}

// slowVerifier adds busy work proportional to the measured duration of
// each accepted Verify. Timing a call costs about 100 ns here, more than a
// cache hit, so fast calls are timed in windows: the first window calls of
// every period run unslowed and their mean sets the estimate, and the
// other calls carry the whole injected share. Calls slower than
// perCallAbove are timed one by one, where the timer is negligible.
type slowVerifier struct {
	Verifier
	frac     float64
	rate     float64 // spin iterations per ns
	born     time.Time
	calls    atomic.Uint64
	est      atomic.Int64 // EWMA of the accepted op time in ns
	winStart atomic.Int64 // ns since born when the current window opened
	sink     atomic.Uint64
}

const (
	window       = 64
	period       = 1024
	perCallAbove = int64(20 * time.Microsecond)
)

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
	s := &slowVerifier{Verifier: v, frac: frac, rate: rate, born: time.Now()}
	if o, ok := v.(MutationObserver); ok {
		return slowObserver{s, o}
	}
	return s
}

func (s *slowVerifier) Verify(ctx context.Context, id, secret string) (Outcome, error) {
	n := s.calls.Add(1) - 1
	est := s.est.Load()
	perCall := est == 0 || est > perCallAbove
	phase := n % period
	var t0 time.Time
	switch {
	case perCall:
		t0 = time.Now()
	case phase == 0:
		s.winStart.Store(int64(time.Since(s.born)))
	}
	out, err := s.Verifier.Verify(ctx, id, secret)
	if err != nil {
		return out, err
	}
	switch {
	case perCall:
		s.update(int64(time.Since(t0)))
	case phase == window-1:
		if st := s.winStart.Load(); st != 0 {
			s.update((int64(time.Since(s.born)) - st) / window)
		}
	}
	frac := s.frac
	if !perCall {
		if phase < window {
			return out, err
		}
		frac *= float64(period) / float64(period-window)
	}
	if x := spin(int64(frac * s.rate * float64(s.est.Load()))); x == 0 {
		s.sink.Add(1) // practically never; keeps the work observable
	}
	return out, err
}

func (s *slowVerifier) update(d int64) {
	if old := s.est.Load(); old == 0 {
		s.est.Store(max(d, 1))
	} else {
		s.est.Store(max(old+(d-old)/8, 1))
	}
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
			v, err := slowedConstructor(registry[name], 0.5, spinRate())(Config{Store: s})
			if err != nil {
				t.Fatal(err)
			}
			_, isObs := v.(MutationObserver)
			inner, _ := registry[name](Config{Store: s})
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
