package gate

import (
	"fmt"
	"math"
	"testing"
)

const trials = 200

func TestCalibrateAA(t *testing.T) {
	for _, cv := range []float64{0.03, 0.05, 0.08} {
		for _, n := range []int{10, 15, 20} {
			t.Run(fmt.Sprintf("cv%.2f/n%d", cv, n), func(t *testing.T) {
				c, err := Calibrate(trials, Lognormal(uint64(100*n)+uint64(1000*cv), n, []float64{cv}, 0), Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("A/A false alarms %d/%d", c.Failed, c.Trials)
				if c.Rate > 0.01 {
					t.Errorf("false-alarm rate %.3f > 1%%", c.Rate)
				}
			})
		}
	}
}

// TestDetection uses noise/rounds pairs with some margin over what
// RecommendN finds: the whole interval must clear +5 %, so a 10 % slowdown
// needs about 13 rounds at 3 % CV, 31 at 5 % and 80 at 8 %; at n = 20 the
// power is only 79 % at 5 % CV and 41 % at 8 %.
func TestDetection(t *testing.T) {
	tests := []struct {
		cv float64
		n  int
	}{
		{0.03, 15}, {0.03, 20}, {0.05, 40}, {0.08, 100},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("cv%.2f/n%d", tt.cv, tt.n), func(t *testing.T) {
			tr := trials
			if tt.n > 50 {
				tr = 100 // normal approximation, 6400 pairs per trial
			}
			c, err := DetectionRate(tr, Lognormal(uint64(tt.n), tt.n, []float64{tt.cv}, 0.10), Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("10%% slowdown detected %d/%d", c.Failed, c.Trials)
			if c.Rate < 0.95 {
				t.Errorf("detection rate %.3f < 95%%", c.Rate)
			}
		})
	}
}

func TestHolmReducesFalseAlarms(t *testing.T) {
	cvs := make([]float64, 20)
	for i := range cvs {
		cvs[i] = 0.05
	}
	// Without a minimum effect every metric is a plain 5 % test, so 20 of
	// them raise a family-wise false alarm often unless corrected.
	gen := Lognormal(42, 10, cvs, 0)
	raw, err := Calibrate(trials, gen, Options{MinEffect: -1, NoCorrection: true})
	if err != nil {
		t.Fatal(err)
	}
	holm, err := Calibrate(trials, gen, Options{MinEffect: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("20 metrics A/A: uncorrected %d/%d, Holm %d/%d", raw.Failed, raw.Trials, holm.Failed, holm.Trials)
	if raw.Rate < 0.2 || holm.Rate > 0.05 || holm.Failed >= raw.Failed {
		t.Errorf("uncorrected %.3f, Holm %.3f: want Holm ≤ 5%% and well below uncorrected", raw.Rate, holm.Rate)
	}
}

func TestRecommendN(t *testing.T) {
	tests := []struct {
		cvs        []float64
		trials     int
		minN, maxN int
	}{
		{[]float64{0.03}, trials, 10, 16},
		{[]float64{0.02, 0.05}, 100, 27, 42},
	}
	for i, tt := range tests {
		rec, err := RecommendN(tt.cvs, Options{Seed: 1}, PowerSpec{Trials: tt.trials})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("cv %v: %+v", tt.cvs, rec)
		if rec.N < tt.minN || rec.N > tt.maxN || rec.Power < 0.95 || rec.FalseAlarm > 0.01 {
			t.Errorf("cv %v: %+v, want N in [%d, %d]", tt.cvs, rec, tt.minN, tt.maxN)
		}
		if i > 0 {
			continue
		}
		again, _ := RecommendN(tt.cvs, Options{Seed: 1}, PowerSpec{Trials: tt.trials})
		if again != rec {
			t.Errorf("not deterministic: %+v then %+v", rec, again)
		}
	}
	if _, err := RecommendN([]float64{0.5}, Options{Seed: 1}, PowerSpec{Trials: 20, MaxN: 12}); err == nil {
		t.Error("cv 50% with at most 12 rounds: want an error")
	}
}

func TestMinDetectableEffect(t *testing.T) {
	prev := 0.0
	for _, cv := range []float64{0.01, 0.03, 0.08} {
		mde, err := MinDetectableEffect([]float64{cv}, 20, Options{Seed: 3}, PowerSpec{Trials: 100})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("cv %.2f n 20: min detectable slowdown %.1f%%", cv, 100*mde)
		if mde < 0.05 || mde <= prev || mde > 0.3 {
			t.Errorf("cv %.2f: %.3f (previous %.3f)", cv, mde, prev)
		}
		prev = mde
	}
}

func TestNoiseCV(t *testing.T) {
	b, c := Lognormal(9, 200, []float64{0.05}, 0.3)(0) // the shift between sides is not noise
	got := NoiseCV(b, c)[Key{"M00", "sec/op"}]
	if math.Abs(got-0.05) > 0.006 {
		t.Errorf("estimated cv %.4f, want ≈ 0.05", got)
	}
}
