package loadgen

import (
	"context"
	"testing"
	"time"
)

// modelRun is a model server (and generator): a step is sustained when
// its rate is at most min(server, generator) capacity; above it the
// achieved rate falls short (the generator) or p99 blows up (the server).
func modelRun(server, generator float64, calls *[]float64) func(context.Context, float64) (*Result, error) {
	return func(_ context.Context, rate float64) (*Result, error) {
		*calls = append(*calls, rate)
		r := &Result{OfferedRPS: rate, AchievedRPS: min(rate, generator), ExpectedRatio: 1}
		r.Metrics.Requests = 1000
		r.Metrics.Latencies.P99 = time.Millisecond
		if rate > server {
			r.Metrics.Latencies.P99 = time.Second
		}
		r.ShortOfTarget = r.AchievedRPS < 0.99*rate
		return r, nil
	}
}

func TestKneeBisection(t *testing.T) {
	const capacity = 5230.0
	for _, tc := range []struct {
		name     string
		o        KneeOptions
		server   float64
		maxSteps int // the search must need at most this many
		capped   bool
		resolved bool
	}{
		{"coarse ramp then bisection", KneeOptions{StartRate: 400, Factor: 3, MaxRate: 19200}, capacity, 10, false, true},
		{"factor 2", KneeOptions{StartRate: 400, Factor: 2, MaxRate: 19200}, capacity, 10, false, true},
		{"first step already bad: ramp down", KneeOptions{StartRate: 20000, Factor: 3}, capacity, 10, false, true},
		{"known sustained rate from the window", KneeOptions{StartRate: 400, Known: 2000, Factor: 2, MaxRate: 19200}, capacity, 7, false, true},
		{"known failed rate from the window", KneeOptions{StartRate: 400, KnownBad: 8000, Factor: 2}, capacity, 5, false, true},
		{"bracket right", KneeOptions{Bracket: [2]float64{5100, 5300}, Factor: 3}, capacity, 2, false, true},
		{"bracket too high", KneeOptions{Bracket: [2]float64{5600, 5850}, Factor: 3}, capacity, 4, false, true},
		{"bracket far too high", KneeOptions{Bracket: [2]float64{9000, 9400}, Factor: 3}, capacity, 9, false, true},
		{"bracket too low", KneeOptions{Bracket: [2]float64{4500, 4700}, Factor: 3}, capacity, 5, false, true},
		{"capped by the search maximum", KneeOptions{StartRate: 400, Factor: 3, MaxRate: 3000}, capacity, 4, true, false},
		{"nothing sustainable", KneeOptions{StartRate: 400, Factor: 3}, 0.1, 12, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.MaxSteps = 12
			o, err := tc.o.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			var calls []float64
			k, err := findKnee(context.Background(), modelRun(tc.server, 1e9, &calls), &o)
			if err != nil {
				t.Fatal(err)
			}
			if len(k.Steps) > tc.maxSteps || len(k.Steps) != len(calls) {
				t.Errorf("%d steps %v, want at most %d", len(k.Steps), calls, tc.maxSteps)
			}
			if k.CappedByMax != tc.capped || k.Resolved != tc.resolved {
				t.Errorf("capped %v resolved %v, want %v %v (steps %v)", k.CappedByMax, k.Resolved, tc.capped, tc.resolved, calls)
			}
			if !tc.resolved {
				return
			}
			// The bracket holds the true capacity and is within 5 %.
			if k.Rate > tc.server || k.FirstBad <= tc.server || k.FirstBad/k.Rate > 1.05 {
				t.Errorf("bracket [%v, %v] for capacity %v (steps %v)", k.Rate, k.FirstBad, tc.server, calls)
			}
			if tc.o.Known > 0 && calls[0] <= tc.o.Known {
				t.Errorf("ramp started at %v, not above the known %v", calls[0], tc.o.Known)
			}
			if tc.o.KnownBad > 0 && calls[0] >= tc.o.KnownBad {
				t.Errorf("ramp started at %v, not below the known failure %v", calls[0], tc.o.KnownBad)
			}
			if tc.o.Bracket[0] > 0 && (calls[0] != tc.o.Bracket[0] || k.Steps[0].Phase != PhaseVerify) {
				t.Errorf("bracket search started at %v (%s)", calls[0], k.Steps[0].Phase)
			}
		})
	}
}

// TestKneeGeneratorCapped: a fast server behind a slower generator. The
// control's searches find the generator's ceiling; a verifier whose knee
// reaches it is flagged, one clearly below it is not.
func TestKneeGeneratorCapped(t *testing.T) {
	const generator = 9000.0
	search := func(server float64) *Knee {
		o, err := (&KneeOptions{StartRate: 400, Factor: 3, MaxSteps: 12}).withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		var calls []float64
		k, err := findKnee(context.Background(), modelRun(server, generator, &calls), &o)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	var controls []float64
	for range 4 {
		controls = append(controls, search(1e9).Rate)
	}
	ceiling, n := GeneratorCeiling(controls)
	if n != 4 || ceiling > generator || ceiling < generator/1.05 {
		t.Fatalf("ceiling %v from %d searches, want within 5 %% below %v", ceiling, n, generator)
	}
	fast, slow := search(50000), search(4000)
	if !CappedByGenerator(fast.Rate, ceiling) {
		t.Errorf("knee %v of a server faster than the generator (ceiling %v) not capped", fast.Rate, ceiling)
	}
	if CappedByGenerator(slow.Rate, ceiling) {
		t.Errorf("knee %v of a server slower than the generator (ceiling %v) capped", slow.Rate, ceiling)
	}
	// The steps of the fast server fell short (achieved < offered): the
	// verdict names the generator's symptom, not latency.
	for _, st := range fast.Steps {
		if !st.Good && st.Result.ShortOfTarget == false {
			t.Errorf("bad step at %v without falling short: %s", st.Offered, st.Reason)
		}
	}
}

func TestGeneratorCeilingRule(t *testing.T) {
	for _, tc := range []struct {
		knees []float64
		want  float64
		n     int
	}{
		{nil, 0, 0},
		{[]float64{0, 0}, 0, 0},
		{[]float64{100}, 100, 1},
		{[]float64{300, 100, 200}, 200, 3},
		{[]float64{100, 200, 0, 400, 300}, 250, 4},
	} {
		got, n := GeneratorCeiling(tc.knees)
		if got != tc.want || n != tc.n {
			t.Errorf("GeneratorCeiling(%v) = %v, %d; want %v, %d", tc.knees, got, n, tc.want, tc.n)
		}
	}
	for _, tc := range []struct {
		knee, ceiling float64
		want          bool
	}{
		{950, 1000, true}, {949, 1000, false}, {1200, 1000, true}, {1000, 0, false},
	} {
		if got := CappedByGenerator(tc.knee, tc.ceiling); got != tc.want {
			t.Errorf("CappedByGenerator(%v, %v) = %v", tc.knee, tc.ceiling, got)
		}
	}
}

func TestKneeOptionsRejectBadBracket(t *testing.T) {
	for _, o := range []KneeOptions{
		{Bracket: [2]float64{100, 50}},
		{Bracket: [2]float64{0, 50}},
		{Known: -1},
		{KnownBad: -1},
		{Widen: 1},
	} {
		if _, err := o.withDefaults(); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// TestKneeCancelled: a cancelled search runs no step.
func TestKneeCancelled(t *testing.T) {
	o, err := (&KneeOptions{StartRate: 400, Factor: 3, MaxSteps: 12}).withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	var calls []float64
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	k, err := findKnee(ctx, modelRun(5000, 1e9, &calls), &o)
	if err != nil || !k.Interrupted || len(k.Steps) != 0 {
		t.Errorf("cancelled search: %v, %+v", err, k)
	}
}

// TestKneeConfirmsMarginalSteps: a marginal failure below the knee (one
// stall) is repeated and does not set the bracket; hard failures (far
// short, or the model's 1 s p99 above capacity) are not repeated.
func TestKneeConfirmsMarginalSteps(t *testing.T) {
	const capacity = 5230.0
	for _, tc := range []struct {
		name      string
		confirm   int
		glitchAt  float64 // the first step at this rate falls 2 % short
		hard      bool    // the glitch is a hard failure (50 % short)
		every     bool    // every step at glitchAt falls short, not just the first
		wantKnee  bool    // the bracket holds the capacity
		wantSteps int     // confirm steps run
	}{
		{"marginal glitch repeated", 2, 3200, false, false, true, 1},
		{"no confirmation: glitch sets the bracket", 0, 3200, false, false, false, 0},
		{"hard failure not repeated", 2, 3200, true, false, false, 0},
		{"marginal glitch at the budget's end", 1, 3200, false, false, true, 1},
		{"repeat fails too: the rate is bad", 2, 3200, false, true, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := (&KneeOptions{StartRate: 400, Factor: 2, MaxRate: 19200, MaxSteps: 12, Confirm: tc.confirm}).withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			var calls []float64
			model := modelRun(capacity, 1e9, &calls)
			glitched := false
			run := func(ctx context.Context, rate float64) (*Result, error) {
				r, err := model(ctx, rate)
				if rate == tc.glitchAt && (!glitched || tc.every) {
					glitched = true
					r.AchievedRPS = 0.98 * rate
					if tc.hard {
						r.AchievedRPS = 0.5 * rate
					}
					r.ShortOfTarget = true
				}
				return r, err
			}
			k, err := findKnee(context.Background(), run, &o)
			if err != nil {
				t.Fatal(err)
			}
			holds := k.Rate <= capacity && k.FirstBad > capacity && k.Resolved
			if holds != tc.wantKnee {
				t.Errorf("bracket [%v, %v] holds capacity %v: %v, want %v (calls %v)", k.Rate, k.FirstBad, capacity, holds, tc.wantKnee, calls)
			}
			n := 0
			for _, st := range k.Steps {
				if st.Phase == PhaseConfirm {
					n++
				}
			}
			if n != tc.wantSteps {
				t.Errorf("%d confirm steps, want %d (calls %v)", n, tc.wantSteps, calls)
			}
			// Any repeat above capacity must fail.
			for i, st := range k.Steps {
				if st.Phase == PhaseConfirm && st.Offered > capacity && st.Good {
					t.Errorf("step %d: repeat above capacity judged good", i)
				}
			}
		})
	}
}
