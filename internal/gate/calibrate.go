package gate

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Calibration is how often the gate failed over simulated trials.
type Calibration struct {
	Trials int
	Failed int     // trials in which Report.Failed()
	Rate   float64 // Failed / Trials
}

// Generator returns the base and candidate samples of one trial. It must be
// deterministic in trial so that calibrations repeat.
type Generator func(trial int) (base, cand Samples)

// Calibrate runs the gate on trials A/A comparisons from gen and returns
// the false alarms: trials in which any metric was called a regression.
func Calibrate(trials int, gen Generator, opts Options) (Calibration, error) {
	return runTrials(trials, gen, opts, uCache{})
}

// DetectionRate runs the gate on trials comparisons from gen, which should
// contain a true regression, and returns how often it was caught.
func DetectionRate(trials int, gen Generator, opts Options) (Calibration, error) {
	return runTrials(trials, gen, opts, uCache{})
}

func runTrials(trials int, gen Generator, opts Options, cache uCache) (Calibration, error) {
	c := Calibration{Trials: trials}
	for t := 0; t < trials; t++ {
		b, cand := gen(t)
		r, err := compare(b, cand, opts, cache)
		if err != nil {
			return c, fmt.Errorf("trial %d: %w", t, err)
		}
		if r.Failed() {
			c.Failed++
		}
	}
	if trials > 0 {
		c.Rate = float64(c.Failed) / float64(trials)
	}
	return c, nil
}

// Lognormal returns a Generator of n interleaved rounds per side for one
// sec/op metric per entry of cvs (named M00, M01, …), each with lognormal
// noise of that coefficient of variation; the candidate is slower by the
// factor 1+slowdown. Trials are independent and fixed by (seed, trial).
func Lognormal(seed uint64, n int, cvs []float64, slowdown float64) Generator {
	return synthetic(seed, cvs, func(rng *rand.Rand, name string, sigma float64, base, cand Samples) {
		for r := 0; r < n; r++ {
			base.Add(name, "sec/op", 1e-3*math.Exp(sigma*rng.NormFloat64()))
			cand.Add(name, "sec/op", 1e-3*(1+slowdown)*math.Exp(sigma*rng.NormFloat64()))
		}
	})
}

// synthetic is the frame of the simulated generators: one sec/op metric
// per entry of cvs, named M00, M01, …, with the lognormal sigma of its CV
// and a random stream fixed by (seed, trial).
func synthetic(seed uint64, cvs []float64, metric func(rng *rand.Rand, name string, sigma float64, base, cand Samples)) Generator {
	return func(trial int) (Samples, Samples) {
		rng := rand.New(rand.NewPCG(seed, uint64(trial)))
		base, cand := Samples{}, Samples{}
		for i, cv := range cvs {
			metric(rng, fmt.Sprintf("M%02d", i), math.Sqrt(math.Log1p(cv*cv)), base, cand)
		}
		return base, cand
	}
}

// NoiseCV estimates each metric's coefficient of variation from A/A
// samples (e.g. base and candidate built from the same commit). Each input
// is centred on its own log mean first, so a shift between jobs does not
// count as noise; the pooled log standard deviation s is reported as the
// lognormal CV sqrt(exp(s²)−1). Metrics with fewer than two values in
// total degrees of freedom are left out.
func NoiseCV(samples ...Samples) map[Key]float64 {
	type acc struct{ ss, dof float64 }
	accs := map[Key]*acc{}
	for _, s := range samples {
		for k, vs := range s {
			if len(vs) < 2 {
				continue
			}
			mean := 0.0
			for _, v := range vs {
				mean += math.Log(v)
			}
			mean /= float64(len(vs))
			a := accs[k]
			if a == nil {
				a = &acc{}
				accs[k] = a
			}
			for _, v := range vs {
				d := math.Log(v) - mean
				a.ss += d * d
			}
			a.dof += float64(len(vs) - 1)
		}
	}
	out := map[Key]float64{}
	for k, a := range accs {
		if a.dof >= 2 {
			out[k] = math.Sqrt(math.Expm1(a.ss / a.dof))
		}
	}
	return out
}

// PowerSpec is the target of RecommendN and MinDetectableEffect.
type PowerSpec struct {
	Slowdown      float64 // slowdown to detect; 0 means 0.10 (RecommendN only)
	Power         float64 // required detection rate per metric; 0 means 0.95
	MaxFalseAlarm float64 // allowed A/A family-wise false-alarm rate; 0 means 0.01
	Trials        int     // simulated trials per evaluation; 0 means 400
	MaxN          int     // largest N RecommendN tries; 0 means 200
}

func (s PowerSpec) withDefaults() PowerSpec {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&s.Slowdown, 0.10)
	def(&s.Power, 0.95)
	def(&s.MaxFalseAlarm, 0.01)
	if s.Trials == 0 {
		s.Trials = 400
	}
	if s.MaxN == 0 {
		s.MaxN = 200
	}
	return s
}

// Recommendation is the outcome of RecommendN.
type Recommendation struct {
	N          int     // interleaved rounds per side
	Power      float64 // worst metric's simulated detection rate at N
	FalseAlarm float64 // simulated A/A family-wise false-alarm rate at N
}

// RecommendN returns the smallest number of interleaved rounds N (samples
// per side) at which, with all metrics of cvs compared together, each metric
// slowed by spec.Slowdown is flagged in at least spec.Power of simulated
// trials while A/A trials raise a false alarm in at most spec.MaxFalseAlarm.
// The simulation is lognormal and fixed by opts.Seed. Power grows with N, so
// the search doubles N and then bisects.
func RecommendN(cvs []float64, opts Options, spec PowerSpec) (Recommendation, error) {
	if len(cvs) == 0 {
		return Recommendation{}, fmt.Errorf("recommend n: no metrics")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return Recommendation{}, err
	}
	spec = spec.withDefaults()
	cache := uCache{}
	strict := o.Alpha
	if !o.NoCorrection {
		strict /= float64(len(cvs))
	}
	eval := func(n int) (Recommendation, bool, error) {
		rec := Recommendation{N: n}
		var err error
		rec.Power, err = power(n, cvs, spec.Slowdown, opts, spec.Trials, cache)
		if err != nil || rec.Power < spec.Power {
			return rec, false, err
		}
		aa, err := runTrials(spec.Trials, Lognormal(opts.Seed, n, cvs, 0), opts, cache)
		rec.FalseAlarm = aa.Rate
		return rec, err == nil && aa.Rate <= spec.MaxFalseAlarm, err
	}
	lo := minRoundsFor(strict) - 1 // known too small
	hi := lo + 1
	var best Recommendation
	for {
		if hi > spec.MaxN {
			return Recommendation{}, fmt.Errorf("recommend n: cv %v needs more than %d rounds to detect a %g%% slowdown", cvs, spec.MaxN, 100*spec.Slowdown)
		}
		rec, ok, err := eval(hi)
		if err != nil {
			return Recommendation{}, fmt.Errorf("recommend n: %w", err)
		}
		if ok {
			best = rec
			break
		}
		lo, hi = hi, min(2*hi, spec.MaxN+1)
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		rec, ok, err := eval(mid)
		if err != nil {
			return Recommendation{}, fmt.Errorf("recommend n: %w", err)
		}
		if ok {
			hi, best = mid, rec
		} else {
			lo = mid
		}
	}
	return best, nil
}

// MinDetectableEffect returns the smallest slowdown (fraction) that the gate
// flags with at least spec.Power in every metric of cvs when each side has n
// rounds, found by bisection to 0.1 % on simulations fixed by opts.Seed.
// It is never below opts.MinEffect, which the whole interval must clear.
func MinDetectableEffect(cvs []float64, n int, opts Options, spec PowerSpec) (float64, error) {
	if len(cvs) == 0 {
		return 0, fmt.Errorf("min detectable effect: no metrics")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return 0, err
	}
	spec = spec.withDefaults()
	cache := uCache{}
	detects := func(e float64) (bool, error) {
		p, err := power(n, cvs, e, opts, spec.Trials, cache)
		return p >= spec.Power, err
	}
	lo, hi := o.MinEffect, 4.0
	if ok, err := detects(hi); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("not even a %g%% slowdown is detected with n=%d", 100*hi, n)
		}
		return 0, fmt.Errorf("min detectable effect: %w", err)
	}
	for hi-lo > 0.001 {
		mid := (lo + hi) / 2
		ok, err := detects(mid)
		if err != nil {
			return 0, fmt.Errorf("min detectable effect: %w", err)
		}
		if ok {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, nil
}

// power returns the worst per-metric detection rate of a slowdown applied
// to every metric.
func power(n int, cvs []float64, slowdown float64, opts Options, trials int, cache uCache) (float64, error) {
	// A different stream from the A/A trials, same for every slowdown
	// (common random numbers keep bisection monotone).
	gen := Lognormal(opts.Seed^0x9e3779b97f4a7c15, n, cvs, slowdown)
	hits := make([]int, len(cvs))
	for t := 0; t < trials; t++ {
		b, c := gen(t)
		r, err := compare(b, c, opts, cache)
		if err != nil {
			return 0, err
		}
		for i, m := range r.Metrics {
			if m.Verdict == Regression {
				hits[i]++
			}
		}
	}
	worst := trials
	for _, h := range hits {
		worst = min(worst, h)
	}
	return float64(worst) / float64(trials), nil
}
