package gate

import (
	"math"
	"math/rand/v2"
	"testing"
)

// pairedRun is one in-process A/B run: n processes, each with a large
// process-level offset both sides share and a small pair noise.
func pairedRun(rng *rand.Rand, n int, slowdown float64) (base, cand Samples) {
	base, cand = Samples{}, Samples{}
	for range n {
		proc := math.Exp(0.10 * rng.NormFloat64()) // 10 % between processes
		base.Add("AB/ttl/hit", "sec/op", 30e-9*proc*math.Exp(0.005*rng.NormFloat64()))
		cand.Add("AB/ttl/hit", "sec/op", 30e-9*proc*(1+slowdown)*math.Exp(0.005*rng.NormFloat64()))
	}
	return base, cand
}

func TestComparePaired(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	opts := Options{Alpha: 0.05, MinEffect: 0.03, FDR: true}
	alarms, detected := 0, 0
	for range 200 {
		b, c := pairedRun(rng, 10, 0)
		r, err := ComparePaired(b, c, opts)
		if err != nil {
			t.Fatal(err)
		}
		if r.Failed() {
			alarms++
		}
		b, c = pairedRun(rng, 10, 0.10)
		r, err = ComparePaired(b, c, opts)
		if err != nil {
			t.Fatal(err)
		}
		if r.Failed() {
			detected++
			m := r.Metrics[0]
			if !(m.Lo > 1.03 && m.Lo <= m.Ratio && m.Ratio <= m.Hi) {
				t.Errorf("interval %v [%v, %v]", m.Ratio, m.Lo, m.Hi)
			}
		}
		// Unpaired, the 10 % process spread hides the same +10 %.
	}
	if alarms > 2 || detected < 195 {
		t.Errorf("paired: %d/200 false alarms, %d/200 detected", alarms, detected)
	}
	b, c := pairedRun(rng, 10, 0.10)
	if r, err := Compare(b, c, opts); err != nil || r.Failed() {
		t.Logf("unpaired flagged it this time (%v)", err)
	}
}

func TestComparePairedErrors(t *testing.T) {
	b, c := Samples{}, Samples{}
	b.Add("X", "sec/op", 1, 2, 3)
	c.Add("X", "sec/op", 1, 2)
	if _, err := ComparePaired(b, c, Options{}); err == nil {
		t.Error("unequal lengths paired")
	}
	c = Samples{}
	c.Add("X", "sec/op", 1, 2, 3)
	if _, err := ComparePaired(b, c, Options{}); err == nil {
		t.Error("3 pairs: want too few samples")
	}
}

func TestSignedRankNull(t *testing.T) {
	cdf := signedRankNull(3) // T+ ∈ 0..6 with counts 1 1 1 2 1 1 1
	want := []float64{1, 2, 3, 5, 6, 7, 8}
	for i, w := range want {
		if math.Abs(cdf[i]-w/8) > 1e-12 {
			t.Fatalf("cdf %v", cdf)
		}
	}
}
