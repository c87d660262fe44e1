package gate

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// suite draws one A/A (or, for the first `slowed` benchmarks, A/A') run of
// a suite of m benchmarks, n rounds per side, lognormal noise at cv.
func suite(rng *rand.Rand, m, n, slowed int, cv, slowdown float64) (base, cand Samples) {
	base, cand = Samples{}, Samples{}
	for b := range m {
		name := fmt.Sprintf("B%02d", b)
		f := 1.0
		if b < slowed {
			f += slowdown
		}
		for range n {
			base.Add(name, "sec/op", 100*lognormal(rng, cv))
			cand.Add(name, "sec/op", 100*f*lognormal(rng, cv))
		}
	}
	return base, cand
}

func lognormal(rng *rand.Rand, cv float64) float64 {
	return 1 + cv*rng.NormFloat64()
}

// TestFDRSuiteAA: an A/A run of a 40-benchmark suite under BH raises an
// alert in at most 1 % of runs (the target), and BH, unlike Holm,
// keeps its power as the suite grows.
func TestFDRSuiteAA(t *testing.T) {
	runs := 400
	if testing.Short() {
		runs = 100
	}
	rng := rand.New(rand.NewPCG(1, 2))
	opts := Options{Alpha: 0.05, MinEffect: 0.02, FDR: true}
	alerts := 0
	for range runs {
		b, c := suite(rng, 40, 10, 0, 0.02, 0)
		r, err := Compare(b, c, opts)
		if err != nil {
			t.Fatal(err)
		}
		if r.Failed() {
			alerts++
		}
	}
	if alerts > runs/100 {
		t.Errorf("A/A suite: %d of %d runs raised an alert, want ≤ 1 %%", alerts, runs)
	}
	// Ten of forty benchmarks 10 % slower: BH finds at least as many as Holm.
	bh, holm := 0, 0
	for range 50 {
		b, c := suite(rng, 40, 10, 10, 0.02, 0.10)
		r1, err1 := Compare(b, c, opts)
		r2, err2 := Compare(b, c, Options{Alpha: 0.05, MinEffect: 0.02})
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		bh += len(r1.Regressions())
		holm += len(r2.Regressions())
		for _, m := range r1.Regressions() {
			if m.Name >= "B10" {
				t.Errorf("BH flagged unchanged %s", m.Name)
			}
		}
	}
	if bh < holm || bh == 0 {
		t.Errorf("BH found %d regressions, Holm %d: want BH ≥ Holm > 0", bh, holm)
	}
}

// TestBHLevels checks the step-up on known p-values: the verdicts and the
// printed level agree, and q-values are monotone.
func TestBHLevels(t *testing.T) {
	ps := make([]prepared, 5)
	for i, p := range []float64{0.001, 0.009, 0.03, 0.04, 0.5} {
		ps[i].m.P = p
	}
	order := []int{0, 1, 2, 3, 4}
	benjaminiHochberg(ps, order, 0.05)
	// thresholds 0.01 0.02 0.03 0.04 0.05: R = 4 (0.04 ≤ 0.04).
	for i, p := range ps {
		if p.m.Alpha != 0.04 {
			t.Errorf("rank %d level %g, want 0.04", i, p.m.Alpha)
		}
	}
	if ps[0].m.PAdj > ps[1].m.PAdj || ps[3].m.PAdj != 0.05 || ps[4].m.PAdj != 0.5 {
		t.Errorf("q-values %v %v %v %v %v", ps[0].m.PAdj, ps[1].m.PAdj, ps[2].m.PAdj, ps[3].m.PAdj, ps[4].m.PAdj)
	}
}
