package gate

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestUNull(t *testing.T) {
	tests := []struct {
		n, m, u int
		want    float64
	}{
		{4, 4, 0, 1.0 / 70},
		{4, 4, 1, 2.0 / 70},
		{3, 2, 0, 1.0 / 10},
		{3, 2, 5, 0.9},
		{5, 5, 12, 0.5}, // symmetric: P(U ≤ 12) = 1/2 for nm = 25
	}
	for _, tt := range tests {
		if got := newUNull(tt.n, tt.m).CDF(tt.u); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("n=%d m=%d P(U≤%d) = %v, want %v", tt.n, tt.m, tt.u, got, tt.want)
		}
	}
	// The normal approximation used above exactLimit agrees with the exact
	// distribution at the largest exact size.
	exact, approx := newUNull(50, 50), &uNull{n: 50, m: 50}
	for _, u := range []int{900, 1000, 1100, 1250} {
		if d := math.Abs(exact.CDF(u) - approx.CDF(u)); d > 2e-3 {
			t.Errorf("u=%d exact %v normal %v", u, exact.CDF(u), approx.CDF(u))
		}
	}
	if got := minRoundsFor(0.05); got != 4 {
		t.Errorf("minRoundsFor(0.05) = %d, want 4", got)
	}
}

// spread returns n values centred on c with ±w relative spread.
func spread(c, w float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = c * (1 + w*(2*float64(i)/float64(n-1)-1))
	}
	return out
}

func scaled(xs []float64, f float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x * f
	}
	return out
}

func TestCompareVerdicts(t *testing.T) {
	tight := spread(1e-3, 0.01, 10)
	wide := spread(1e-3, 0.2, 10)
	tests := []struct {
		name       string
		unit       string
		base, cand []float64
		dir        func(string) Direction
		want       Verdict
	}{
		{"slower", "sec/op", tight, scaled(tight, 1.3), nil, Regression},
		{"faster", "sec/op", tight, scaled(tight, 0.7), nil, Improvement},
		{"same", "sec/op", tight, scaled(tight, 1.005), nil, NoChange},
		{"noisy", "sec/op", wide, scaled(wide, 1.08), nil, Inconclusive},
		{"rate drops", "req/s", tight, scaled(tight, 0.7), nil, Regression},
		{"rate rises", "req/s", tight, scaled(tight, 1.3), nil, Improvement},
		{"speedup drops", "speedup", tight, scaled(tight, 0.7), nil, Regression},
		{"p99 rises", "p99-sec", tight, scaled(tight, 1.3), nil, Regression},
		{"zero allocs", "allocs/op", make([]float64, 10), make([]float64, 10), nil, NoChange},
		{"one more alloc", "allocs/op", scaled(make([]float64, 10), 0), []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, nil, Regression},
		{"3 to 4 allocs", "allocs/op", scaled(tight, 3/1e-3), scaled(tight, 4/1e-3), nil, Regression},
		{"override", "score", tight, scaled(tight, 0.7), func(u string) Direction {
			if u == "score" {
				return LowerIsWorse
			}
			return 0
		}, Regression},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, c := Samples{}, Samples{}
			b.Add("X-4", tt.unit, tt.base...)
			c.Add("X-4", tt.unit, tt.cand...)
			r, err := Compare(b, c, Options{Direction: tt.dir})
			if err != nil {
				t.Fatal(err)
			}
			m := r.Metrics[0]
			if m.Verdict != tt.want {
				t.Errorf("verdict %v, want %v (ratio %.3f [%.3f, %.3f])", m.Verdict, tt.want, m.Ratio, m.Lo, m.Hi)
			}
			if !(m.Lo <= m.Ratio && m.Ratio <= m.Hi) || m.Confidence < 0.95 {
				t.Errorf("interval [%v, %v] at %v does not hold ratio %v", m.Lo, m.Hi, m.Confidence, m.Ratio)
			}
			if r.Failed() != (tt.want == Regression) {
				t.Errorf("Failed() = %v", r.Failed())
			}
		})
	}
}

func TestCompareErrors(t *testing.T) {
	many := func(metrics, n int) Samples {
		s := Samples{}
		for i := 0; i < metrics; i++ {
			s.Add("B"+string(rune('a'+i)), "sec/op", spread(1, 0.01, n)...)
		}
		return s
	}
	other := Samples{}
	other.Add("Other", "sec/op", spread(1, 0.01, 10)...)
	neg := Samples{}
	neg.Add("Ba", "sec/op", -1, 1, 2, 3, 4)
	tests := []struct {
		name       string
		base, cand Samples
		is         error
		msg        string
	}{
		{"n=m=2", many(1, 2), many(1, 2), ErrTooFewSamples, "at least 4 samples per side"},
		{"Holm over 20 needs more", many(20, 5), many(20, 5), ErrTooFewSamples, "at least 6 samples per side"},
		{"no common", many(1, 10), other, ErrNoCommon, "no benchmark common"},
		{"negative", many(1, 5), neg, nil, "cannot compare value -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Compare(tt.base, tt.cand, Options{})
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v, want %v containing %q", err, tt.is, tt.msg)
			}
			if ExitCode(r, err) != ExitError {
				t.Errorf("exit code %d, want %d", ExitCode(r, err), ExitError)
			}
		})
	}
	if _, err := Compare(many(20, 6), many(20, 6), Options{}); err != nil {
		t.Errorf("20 metrics with 6 samples each: %v", err)
	}
}

func TestReportTable(t *testing.T) {
	b, c := Samples{}, Samples{}
	tight := spread(1e-3, 0.01, 10)
	b.Add("Verify/uncached-4", "sec/op", tight...)
	c.Add("Verify/uncached-4", "sec/op", scaled(tight, 1.3)...)
	b.Add("Verify/ttl-4", "sec/op", spread(1e-3, 0.2, 10)...)
	c.Add("Verify/ttl-4", "sec/op", scaled(spread(1e-3, 0.2, 10), 1.05)...)
	b.Add("Gone-4", "sec/op", tight...)
	c.Add("New-4", "sec/op", tight...)
	r, err := Compare(b, c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"Verify/uncached-4", "1.000m ±", "WORSE", " ~ ", "1 regressions", "1 inconclusive", "only in base: Gone-4 sec/op", "only in candidate: New-4 sec/op"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if got := ExitCode(r, nil); got != ExitRegression {
		t.Errorf("exit code %d, want %d", got, ExitRegression)
	}
	if got := ExitCode(&Report{}, nil); got != ExitPass {
		t.Errorf("empty report exit code %d, want %d", got, ExitPass)
	}
}

// TestHolmConsistency checks that verdicts agree with the printed interval
// and that Holm's levels are non-decreasing in p.
func TestHolmConsistency(t *testing.T) {
	cvs := make([]float64, 20)
	for i := range cvs {
		cvs[i] = 0.02 + 0.003*float64(i)
	}
	for trial := 0; trial < 20; trial++ {
		b, c := Lognormal(7, 12, cvs, 0.08)(trial)
		r, err := Compare(b, c, Options{})
		if err != nil {
			t.Fatal(err)
		}
		theta := math.Log1p(r.Opts.MinEffect)
		for _, m := range r.Metrics {
			beyond := math.Log(m.Lo) > theta
			if beyond != (m.Verdict == Regression) || (m.PAdj <= r.Opts.Alpha) != beyond {
				t.Fatalf("trial %d %s: verdict %v, p_adj %v, interval [%v, %v]", trial, m.Key, m.Verdict, m.PAdj, m.Lo, m.Hi)
			}
			for _, o := range r.Metrics {
				if o.P < m.P && o.Alpha > m.Alpha {
					t.Fatalf("trial %d: level of %s (p=%v) %v > level of %s (p=%v) %v", trial, o.Key, o.P, o.Alpha, m.Key, m.P, m.Alpha)
				}
			}
		}
	}
}
