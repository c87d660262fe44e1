package gate

import (
	"math"
	"math/rand/v2"
	"testing"
)

func noisy(rng *rand.Rand, n int, level func(i int) float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = level(i) * (1 + 0.005*rng.NormFloat64())
	}
	return out
}

// TestChangePointsSynthetic: of a step, a single spike and a slow drift,
// only the step is reported, at the commit where it begins.
func TestChangePointsSynthetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n = 16
	series := map[string][]float64{
		"step":  noisy(rng, n, func(i int) float64 { return map[bool]float64{true: 110, false: 100}[i >= 9] }),
		"spike": noisy(rng, n, func(i int) float64 { return map[bool]float64{true: 180, false: 100}[i == 6] }),
		"drift": noisy(rng, n, func(i int) float64 { return 100 * (1 + 0.01*float64(i)) }),
		"flat":  noisy(rng, n, func(int) float64 { return 100 }),
		"end":   noisy(rng, n, func(i int) float64 { return map[bool]float64{true: 300, false: 100}[i == n-1] }),
		"two":   noisy(rng, 24, func(i int) float64 { return []float64{100, 120, 100}[i/8] }),
		"short": {100, 100, 100, 130, 130},
	}
	names := []string{"step", "spike", "drift", "flat", "end", "two", "short"}
	var in [][]float64
	for _, nm := range names {
		in = append(in, series[nm])
	}
	got := ChangePoints(in, ChangeOptions{})
	want := map[string][]int{"step": {9}, "two": {8, 16}}
	for i, nm := range names {
		var idx []int
		for _, c := range got[i] {
			idx = append(idx, c.Index)
		}
		if len(idx) != len(want[nm]) {
			t.Errorf("%s: changes at %v, want %v (%+v)", nm, idx, want[nm], got[i])
			continue
		}
		for j := range idx {
			if idx[j] != want[nm][j] {
				t.Errorf("%s: changes at %v, want %v", nm, idx, want[nm])
			}
		}
	}
	if c := got[0]; len(c) == 1 && !(c[0].Lo > 1.05 && c[0].Ratio > 1.08 && c[0].Ratio < 1.12) {
		t.Errorf("step ratio %+v, want ≈ 1.10 with its interval above 1.05", c[0])
	}
}

func TestMedian3(t *testing.T) {
	got := median3([]float64{1, 9, 1, 1, 5, 5, 5, 1})
	want := []float64{1, 1, 1, 1, 5, 5, 5, 5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("median3 %v, want %v", got, want)
		}
	}
}

func TestStudentCDF(t *testing.T) {
	for _, c := range []struct{ t, df, want float64 }{
		{0, 5, 0.5}, {2.015, 5, 0.95}, {-2.571, 5, 0.025}, {1.96, 1e6, 0.975}, {12.706, 1, 0.975},
	} {
		if got := studentCDF(c.t, c.df); math.Abs(got-c.want) > 5e-4 {
			t.Errorf("studentCDF(%g, %g) = %g, want %g", c.t, c.df, got, c.want)
		}
	}
	if q := studentQuantile(0.975, 4); math.Abs(q-2.776) > 1e-3 {
		t.Errorf("t quantile %g, want 2.776", q)
	}
}
