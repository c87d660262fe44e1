package analysis

import (
	"math"
	"testing"
)

func TestMedian(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 2, 3}, 2.5},
		{[]float64{math.NaN(), 2, 4}, 3},
	}
	for _, tc := range tests {
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) is not NaN")
	}
}

func TestNullDistributions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cdf  []float64
		want []float64
	}{
		// Rank sums of subsets of {1,2,3}: 0,1,2,3,3,4,5,6.
		{"signed rank n=3", signedRankCDF(3), []float64{1, 2, 3, 5, 6, 7, 8}},
		// U for 2 vs 2: 0,1,2,2,3,4 over C(4,2) = 6 arrangements.
		{"mann-whitney 2x2", mannWhitneyCDF(2, 2), []float64{1, 2, 4, 5, 6}},
		{"mann-whitney 1x3", mannWhitneyCDF(1, 3), []float64{1, 2, 3, 4}},
	}
	for _, tc := range tests {
		total := tc.want[len(tc.want)-1]
		if len(tc.cdf) != len(tc.want) {
			t.Fatalf("%s: %d points, want %d", tc.name, len(tc.cdf), len(tc.want))
		}
		for i := range tc.want {
			if math.Abs(tc.cdf[i]-tc.want[i]/total) > 1e-12 {
				t.Errorf("%s: P(T ≤ %d) = %v, want %v", tc.name, i, tc.cdf[i], tc.want[i]/total)
			}
		}
	}
}

func TestCriticalCoverage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int
		want float64 // coverage of the chosen interval
	}{
		{3, 0.75}, {4, 0.875}, {5, 0.9375}, {6, 1 - 2.0/64}, {10, 1 - 2*25.0/1024}, // the textbook critical value T = 8 for n = 10,
	}
	for _, tc := range tests {
		_, cov := critical(signedRankCDF(tc.n))
		if math.Abs(cov-tc.want) > 1e-12 {
			t.Errorf("n=%d: coverage %v, want %v", tc.n, cov, tc.want)
		}
	}
}

func TestRatios(t *testing.T) {
	t.Parallel()
	rounds := func(xs ...float64) map[int]float64 {
		m := map[int]float64{}
		for i, x := range xs {
			m[i+1] = x
		}
		return m
	}
	tests := []struct {
		name         string
		iv           Interval
		est, lo, hi  float64
		hasRange     bool
		paired       bool
		coverageOver float64
	}{
		{"paired constant ratio", PairedRatio(rounds(2, 4, 6, 8, 10), rounds(1, 2, 3, 4, 5)), 2, 2, 2, true, true, 0.93},
		// Drift falls on both sides alike: pairing by round removes it.
		{"paired drift cancels", PairedRatio(rounds(10, 20, 40), rounds(5, 10, 20)), 2, 2, 2, true, true, 0.7},
		{"paired one round", PairedRatio(rounds(3), rounds(1)), 3, 3, 3, false, true, 0},
		{"paired rounds not shared", PairedRatio(map[int]float64{1: 2}, map[int]float64{2: 1}), math.NaN(), 0, 0, false, false, 0},
		{"unpaired repeats", UnpairedRatio([]float64{2, 2}, []float64{1, 1}), 2, 2, 2, true, false, 0.6},
		{"unpaired one each", UnpairedRatio([]float64{3}, []float64{1}), 3, 3, 3, false, false, 0},
	}
	for _, tc := range tests {
		iv := tc.iv
		if math.IsNaN(tc.est) {
			if iv.Valid() {
				t.Errorf("%s: valid %+v, want none", tc.name, iv)
			}
			continue
		}
		if math.Abs(iv.Est-tc.est) > 1e-9 || iv.HasRange() != tc.hasRange || iv.Paired != tc.paired {
			t.Errorf("%s: %+v, want est %v range %v paired %v", tc.name, iv, tc.est, tc.hasRange, tc.paired)
		}
		if tc.hasRange && (math.Abs(iv.Lo-tc.lo) > 1e-9 || math.Abs(iv.Hi-tc.hi) > 1e-9 || iv.Coverage < tc.coverageOver) {
			t.Errorf("%s: [%v, %v] coverage %v, want [%v, %v] over %v", tc.name, iv.Lo, iv.Hi, iv.Coverage, tc.lo, tc.hi, tc.coverageOver)
		}
	}
}

// TestPairedIntervalContainsTruth: with noisy rounds around a true ratio of
// 1.5, the 95 % interval (8 rounds) contains it and excludes 1.
func TestPairedIntervalContainsTruth(t *testing.T) {
	t.Parallel()
	noise := []float64{1.02, 0.97, 1.01, 0.99, 1.03, 0.98, 1.00, 1.01}
	a, b := map[int]float64{}, map[int]float64{}
	for i, n := range noise {
		b[i+1] = 100 * float64(1+i%3) // drifting machine
		a[i+1] = 1.5 * b[i+1] * n
	}
	iv := PairedRatio(a, b)
	if !(iv.Lo < 1.5 && 1.5 < iv.Hi) || iv.Lo <= 1 || iv.Coverage < Level {
		t.Errorf("interval %+v: want coverage ≥ %v around 1.5, excluding 1", iv, Level)
	}
}

func TestLocation(t *testing.T) {
	t.Parallel()
	iv := Location([]float64{0.004, 0.006, 0.005})
	if iv.Est != 0.005 || iv.Lo != 0.004 || iv.Hi != 0.006 || iv.Coverage != 0.75 {
		t.Errorf("Location = %+v", iv)
	}
}

func TestDistinguish(t *testing.T) {
	t.Parallel()
	aa := Interval{Est: 1, Lo: 0.97, Hi: 1.04, N: 5, Coverage: 0.94}
	tests := []struct {
		name string
		iv   Interval
		aa   Interval
		want DiffKind
		text string
	}{
		{"inside the floor", Interval{Est: 1.01, Lo: 0.99, Hi: 1.03, N: 5, Coverage: 0.94}, aa, Indistinguishable, "indistinguishable (± 4.0 %)"},
		{"excludes 1 but not the floor", Interval{Est: 1.02, Lo: 1.01, Hi: 1.03, N: 5, Coverage: 0.94}, aa, Indistinguishable, "indistinguishable (± 4.0 %)"},
		// A wide interval that reaches into the floor is not "≈": it
		// may still miss a target (issue 16: 0.333× marked ≈).
		{"crosses the floor's edge", Interval{Est: 0.9, Lo: 0.3, Hi: 0.99, N: 5, Coverage: 0.94}, aa, Unclear, "unclear (interval crosses the ± 4.0 % floor)"},
		{"no A/A, includes 1", Interval{Est: 1, Lo: 0.99, Hi: 1.01, N: 5, Coverage: 0.94}, noInterval, Unclear, "unclear (interval includes 1; no A/A row)"},
		{"above the floor", Interval{Est: 1.5, Lo: 1.3, Hi: 1.7, N: 5, Coverage: 0.94}, aa, Higher, "higher (beyond ± 4.0 %)"},
		{"below the floor", Interval{Est: 0.5, Lo: 0.4, Hi: 0.6, N: 5, Coverage: 0.94}, aa, Lower, "lower (beyond ± 4.0 %)"},
		{"no A/A: against 1", Interval{Est: 1.03, Lo: 1.01, Hi: 1.05, N: 5, Coverage: 0.94}, noInterval, Higher, "higher (beyond no A/A row)"},
		{"one round", Interval{Est: 1.5, Lo: 1.5, Hi: 1.5, N: 1}, aa, NoInterval, "n/a (1 round)"},
	}
	for _, tc := range tests {
		d := Distinguish(tc.iv, tc.aa)
		if d.Kind != tc.want || d.String() != tc.text {
			t.Errorf("%s: %v %q, want %v %q", tc.name, d.Kind, d, tc.want, tc.text)
		}
	}
}

func TestVerdicts(t *testing.T) {
	t.Parallel()
	iv := func(lo, hi float64) Interval {
		return Interval{Est: (lo + hi) / 2, Lo: lo, Hi: hi, N: 5, Coverage: 0.94}
	}
	tests := []struct {
		name    string
		atLeast bool
		iv      Interval
		thr     float64
		want    Verdict
	}{
		{"≥ met", true, iv(0.96, 1.02), 0.95, Met},
		{"≥ missed", true, iv(0.80, 0.90), 0.95, Missed},
		{"≥ straddles", true, iv(0.90, 1.00), 0.95, Inconclusive},
		{"≤ met", false, iv(0.001, 0.004), 0.01, Met},
		{"≤ missed", false, iv(0.02, 0.05), 0.01, Missed},
		{"≤ straddles", false, iv(0.005, 0.02), 0.01, Inconclusive},
		{"one round is never a verdict", true, Interval{Est: 0.5, Lo: 0.5, Hi: 0.5, N: 1}, 0.95, Unresolved},
		{"no data", true, noInterval, 0.95, Unresolved},
	}
	for _, tc := range tests {
		judge := AtMost
		if tc.atLeast {
			judge = AtLeast
		}
		if got, why := judge(tc.iv, tc.thr); got != tc.want || (got != Met && why == "") {
			t.Errorf("%s: %v (%q), want %v with a reason unless met", tc.name, got, why, tc.want)
		}
	}
}

func TestFormatRatio(t *testing.T) {
	t.Parallel()
	tests := []struct {
		iv   Interval
		want string
	}{
		{Interval{Est: 0.512, Lo: 0.49, Hi: 0.53, N: 3, Coverage: 0.75}, "0.512× [0.49–0.53]"},
		{Interval{Est: 17.94, Lo: 12.1, Hi: 20, N: 3, Coverage: 0.75}, "17.9× [12.1–20.0]"},
		{Interval{Est: 2, Lo: 2, Hi: 2, N: 1}, "2.00× [n/a (1 round)]"},
		{noInterval, "—"},
	}
	for _, tc := range tests {
		if got := FormatRatio(tc.iv); got != tc.want {
			t.Errorf("FormatRatio(%+v) = %q, want %q", tc.iv, got, tc.want)
		}
	}
}
