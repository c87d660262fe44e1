package gaterun

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/gate"
)

// plantedTally counts detections per planted slowdown.
type plantedTally struct {
	planted []float64
	res     []PlantedResult
	ratios  [][]float64
	byKey   []map[string][]float64
}

func newTally(planted []float64) *plantedTally {
	t := &plantedTally{planted: planted, res: make([]PlantedResult, len(planted)), ratios: make([][]float64, len(planted)), byKey: make([]map[string][]float64, len(planted))}
	for i, f := range planted {
		t.res[i].Slowdown = f
		t.byKey[i] = map[string][]float64{}
	}
	return t
}

// add records one A/A' comparison at planted level i; reach, if not nil,
// says which metrics the slowdown reaches (the others are not required).
func (t *plantedTally) add(i int, r *gate.Report, reach func(gate.Key) bool) {
	pr := &t.res[i]
	pr.Trials++
	flagged, need := 0, 0
	for _, m := range r.Metrics {
		t.ratios[i] = append(t.ratios[i], m.Ratio)
		t.byKey[i][m.Name] = append(t.byKey[i][m.Name], m.Ratio)
		if reach != nil && !reach(m.Key) {
			continue
		}
		need++
		if m.Verdict == gate.Regression {
			flagged++
		}
	}
	if len(r.Regressions()) > 0 {
		pr.DetectedAny++
	}
	if need > 0 && flagged == need {
		pr.Detected++
	}
}

// finish stores the tallies in r, the one at slowdown also in r's
// single-level fields.
func (t *plantedTally) finish(r *MethodResult, slowdown float64) {
	for i := range t.res {
		t.res[i].MedianRatio = analysis.Median(t.ratios[i])
		if t.planted[i] == slowdown {
			r.DetectedAll, r.DetectedAny = t.res[i].Detected, t.res[i].DetectedAny
			r.MedianRatio = map[string]float64{}
			for k, rs := range t.byKey[i] {
				r.MedianRatio[k] = analysis.Median(rs)
			}
		}
	}
	r.Planted = t.res
}

// instrTrials calibrates instruction counts. Counts cost about a second
// per repetition under callgrind, so trials are resampled: InstrPool
// processes of A and two of each planted level each count 2·InstrRounds
// repetitions once; an A/A trial compares InstrRounds repetitions drawn
// from one A process with InstrRounds drawn from another (two processes,
// as the gate compares two), an A/A' trial A's with a slowed process's.
// Within a trial the two sides are disjoint, independent measurements;
// trials share repetitions, so they are not independent of each other.
func instrTrials(ctx context.Context, cfg CalConfig, a Side, planted []float64, p Protocol, env Env, stderr io.Writer) (MethodResult, error) {
	res := MethodResult{Method: Instructions, Unit: Instructions.Unit(), Rounds: cfg.InstrRounds, Trials: cfg.InstrTrials, MinEffect: cfg.InstrEffect}
	iters, err := instructionSlowdowns(ctx, a, planted, p, env)
	if err != nil {
		return res, fmt.Errorf("calibrate the slowdown in instructions: %w", err)
	}
	reps := 2 * cfg.InstrRounds
	count := func(s Side, id string) (gate.Samples, error) {
		q := p
		q.InstrCount = reps
		raw, err := env.Round(ctx, s, InstructionRound, q, id)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		return readRound(raw, id)
	}
	// A runs wrapped with no work, so that A and A' differ by the planted
	// work alone.
	zero := map[string]int64{}
	for v := range iters[planted[0]] {
		zero[v] = 0
	}
	a.Env = append(slices.Clone(a.Env), fmt.Sprintf("%s=%g", SlowdownEnv, planted[0]), SlowdownItersEnv+"="+formatIters(zero))
	start := time.Now()
	pool := make([]gate.Samples, max(2, cfg.InstrPool))
	for i := range pool {
		fmt.Fprintf(stderr, "calibrate: instructions, A process %d/%d (%d repetitions, %s elapsed)\n", i+1, len(pool), reps, time.Since(start).Round(time.Second))
		if pool[i], err = count(a, fmt.Sprintf("pool-%d", i)); err != nil {
			return res, err
		}
		if need := gate.MinRounds(cfg.Alpha, len(pool[i])); i == 0 && cfg.InstrRounds < need {
			// Known after the first process: refuse before spending minutes.
			return res, fmt.Errorf("%w: %d instruction rounds cannot reach the confidence needed for %d metrics at alpha %g; use --instr-rounds %d or more",
				gate.ErrTooFewSamples, cfg.InstrRounds, len(pool[i]), cfg.Alpha, need)
		}
	}
	slowed := make([][]gate.Samples, len(planted))
	for i, f := range planted {
		s := a
		s.Name = fmt.Sprintf("Aslow%g", f)
		s.Env = append(slices.Clone(a.Env[:len(a.Env)-2]), fmt.Sprintf("%s=%g", SlowdownEnv, f), SlowdownItersEnv+"="+formatIters(iters[f]))
		for j := range 2 {
			fmt.Fprintf(stderr, "calibrate: instructions, +%g %% process %d/2 (%s elapsed)\n", 100*f, j+1, time.Since(start).Round(time.Second))
			c, err := count(s, fmt.Sprintf("slow%g-%d", f, j))
			if err != nil {
				return res, err
			}
			slowed[i] = append(slowed[i], c)
		}
	}
	res.RoundSeconds = time.Since(start).Seconds() / float64(reps*(len(pool)+2*len(planted)))
	opts := cfg.gateOpts(cfg.InstrEffect)
	rng := rand.New(rand.NewPCG(1, uint64(len(pool))))
	draw := func(s gate.Samples) gate.Samples {
		out := gate.Samples{}
		for k, vs := range s {
			idx := rng.Perm(len(vs))[:min(cfg.InstrRounds, len(vs))]
			for _, i := range idx {
				out.Add(k.Name, k.Unit, vs[i])
			}
		}
		return out
	}
	pair := func() (int, int) {
		i := rng.IntN(len(pool))
		j := (i + 1 + rng.IntN(len(pool)-1)) % len(pool)
		return i, j
	}
	var aa []gate.Samples
	for range cfg.InstrTrials {
		i, j := pair()
		b, c := draw(pool[i]), draw(pool[j])
		r, err := Judge(b, c, opts)
		if err != nil {
			return res, fmt.Errorf("instructions A/A: %w", err)
		}
		if r.Failed() {
			res.FalseAlarms++
		}
		aa = append(aa, b, c)
	}
	tally := newTally(planted)
	for li, f := range planted {
		reach := func(k gate.Key) bool { return iters[f][verifierOf(k.Name)] > 0 }
		for range cfg.InstrTrials {
			r, err := Judge(draw(pool[rng.IntN(len(pool))]), draw(slowed[li][rng.IntN(len(slowed[li]))]), opts)
			if err != nil {
				return res, fmt.Errorf("instructions A/A' +%g %%: %w", 100*f, err)
			}
			tally.add(li, r, reach)
		}
		for v, n := range iters[f] {
			if n == 0 {
				tally.res[li].Note = fmt.Sprintf("%s: +%g %% is less than one spin iteration, none planted", v, 100*f)
			}
		}
	}
	tally.finish(&res, cfg.Slowdown)
	res.SlowdownIters = iters[cfg.Slowdown]
	res.TrialsNote = fmt.Sprintf("resampled: %d A processes and 2 per planted level, %d repetitions each, counted once; each trial compares %d disjoint repetitions of two different processes", len(pool), reps, cfg.InstrRounds)
	res.CV = map[string]float64{}
	var cvs []float64
	for k, cv := range gate.NoiseCV(aa...) {
		res.CV[k.Name] = cv
		cvs = append(cvs, cv)
	}
	recommend(&res, cvs, opts, cfg.Slowdown, cfg.InstrRounds)
	return res, nil
}

// abTrials calibrates the in-process A/B: each trial is ABProcs fresh
// driver processes holding A twice (the working tree and its copy under
// another import path) and one more B arm per planted slowdown; A/A is A
// against the copy, A/A' A against the slowed copies, all paired by
// process (gate.ComparePaired). Trials are independent. A planted level is
// a measured end-to-end slowdown: every process tunes each slowed copy's
// spin until it measures 1+f against plain B (the spin overlaps with the
// verify call's stalls, so its standalone time overstates it about
// twofold); each level's note gives the slowdowns the driver measured.
func abTrials(ctx context.Context, cfg CalConfig, bin string, planted []float64, env Env, stderr io.Writer) (MethodResult, error) {
	res := MethodResult{Method: AB, Unit: AB.Unit(), Rounds: cfg.ABProcs, Trials: cfg.Trials, MinEffect: cfg.AB.MinEffect,
		TrialsNote: fmt.Sprintf("independent: every trial runs %d fresh driver processes of %d interleaved rounds per verifier; each planted level is a measured end-to-end slowdown (every process tunes the slowed copy's spin iterations until it measures 1+f against plain B, within 10 %% of f where the noise and one-iteration steps allow)", cfg.ABProcs, cfg.AB.Rounds)}
	opts := cfg.gateOpts(cfg.AB.MinEffect)
	proto := cfg.AB
	proto.Planted = planted
	tally := newTally(planted)
	var logRatios = map[string][]float64{}
	achieved := map[string][]float64{} // per planted arm, the driver's measured slowdowns
	var spent time.Duration
	start := time.Now()
	for t := range cfg.Trials {
		fmt.Fprintf(stderr, "calibrate: ab trial %d/%d (%s elapsed)\n", t+1, cfg.Trials, time.Since(start).Round(time.Second))
		t0 := time.Now()
		arms, unplanted, got, err := abProcessesPlanted(ctx, bin, proto, cfg.ABProcs, env, fmt.Sprintf("trial %d", t+1))
		if err != nil {
			return res, err
		}
		for arm, fs := range got {
			achieved[arm] = append(achieved[arm], fs...)
		}
		spent += time.Since(t0)
		r, err := gate.ComparePaired(arms["A"], arms["B"], opts)
		if err != nil {
			return res, fmt.Errorf("ab trial %d A/A: %w", t+1, err)
		}
		if r.Failed() {
			res.FalseAlarms++
		}
		for k, vs := range arms["A"] {
			for i, v := range vs {
				logRatios[k.Name] = append(logRatios[k.Name], math.Log(arms["B"][k][i]/v))
			}
		}
		for i, f := range planted {
			arm := fmt.Sprintf("B+%g", f)
			slow := arms[arm]
			if slow == nil {
				return res, fmt.Errorf("ab trial %d: no arm B+%g in the driver's output", t+1, f)
			}
			r2, err := gate.ComparePaired(arms["A"], slow, opts)
			if err != nil {
				return res, fmt.Errorf("ab trial %d A/A' +%g %%: %w", t+1, 100*f, err)
			}
			reach := func(k gate.Key) bool { return !unplanted[arm+" "+k.Name] }
			tally.add(i, r2, reach)
			for k := range slow {
				if !reach(k) {
					tally.res[i].Note = fmt.Sprintf("%s: +%g %% is less than one spin iteration in some process, none planted there", k.Name, 100*f)
				}
			}
		}
	}
	for i, f := range planted {
		tally.res[i].Note = joinNotes(achievedNote(achieved[fmt.Sprintf("B+%g", f)]), tally.res[i].Note)
	}
	tally.finish(&res, cfg.Slowdown)
	res.CV = map[string]float64{}
	for name, ds := range logRatios {
		res.CV[name] = stddev(ds) // of log(B/A) per process: the pair's noise
	}
	res.RoundSeconds = spent.Seconds() / float64(max(1, cfg.Trials*cfg.ABProcs))
	res.GateSeconds = float64(cfg.ABProcs) * res.RoundSeconds * 2 / float64(2+len(planted)) // the gate runs 2 arms, not 2+planted
	res.FalseAlarmRate = float64(res.FalseAlarms) / float64(max(1, res.Trials))
	res.DetectionRate = float64(res.DetectedAll) / float64(max(1, res.Trials))
	res.RecommendNote = "paired per process: N is the number of driver processes"
	res.MeetsTargets = meets(res)
	return res, nil
}

// abProcesses runs n driver processes and pools each arm's values, one
// per process, paired by position. unplanted holds "ARM BENCHMARK" of the
// planted arms that got no work in some process (the hit is shorter than
// the planted fraction of one spin iteration), and "missing V: in A …, in
// B …" for each verifier a side lacks (the driver's note).
func abProcesses(ctx context.Context, bin string, p ABProtocol, n int, env Env, label string) (arms map[string]gate.Samples, unplanted map[string]bool, err error) {
	arms, unplanted, _, err = abProcessesPlanted(ctx, bin, p, n, env, label)
	return arms, unplanted, err
}

// plantedLine reads one driver line "# V ARM: N spin iterations = ±x.xx %
// measured …": the verifier, the arm, the iterations and, when the line
// says the slowdown was measured end-to-end against B, that slowdown as a
// fraction (measured false for an unplanted arm's "… of the … ns hit").
func plantedLine(line string) (verifier, arm string, iters int64, slowdown float64, measured, ok bool) {
	var pct float64
	var word string
	k, _ := fmt.Sscanf(line, "# %s %s %d spin iterations = %f %% %s", &verifier, &arm, &iters, &pct, &word)
	if k < 3 {
		return "", "", 0, 0, false, false
	}
	return verifier, strings.TrimSuffix(arm, ":"), iters, pct / 100, k == 5 && word == "measured", true
}

// abProcessesPlanted is abProcesses that also returns, per planted arm,
// the end-to-end slowdowns the driver measured when it tuned that arm's
// spin (one per verifier and process).
func abProcessesPlanted(ctx context.Context, bin string, p ABProtocol, n int, env Env, label string) (arms map[string]gate.Samples, unplanted map[string]bool, achieved map[string][]float64, err error) {
	out := map[string]gate.Samples{}
	unplanted = map[string]bool{}
	achieved = map[string][]float64{}
	var first map[string]gate.Samples
	for i := range n {
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, fmt.Errorf("interrupted: %w", err)
		}
		raw, err := env.RunAB(ctx, bin, p)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s, process %d: %w", label, i+1, err)
		}
		arms, err := ABArms(raw, fmt.Sprintf("%s, process %d", label, i+1))
		if err != nil {
			return nil, nil, nil, err
		}
		for _, line := range strings.Split(string(raw), "\n") {
			if m, ok := strings.CutPrefix(line, "# missing "); ok && i == 0 {
				unplanted["missing "+m] = true
			}
			if name, arm, iters, f, measured, ok := plantedLine(line); ok && iters == 0 {
				unplanted[arm+" AB/"+name+"/hit"] = true
			} else if ok && measured {
				achieved[arm] = append(achieved[arm], f)
			}
		}
		if first == nil {
			first = arms
		}
		for name, s := range arms {
			if err := sameMetrics(first[name], s); err != nil {
				return nil, nil, nil, fmt.Errorf("%s, process %d, arm %s: %w", label, i+1, name, err)
			}
			if out[name] == nil {
				out[name] = gate.Samples{}
			}
			out[name].Merge(s)
		}
	}
	return out, unplanted, achieved, nil
}

// achievedNote describes the end-to-end slowdowns the driver measured for
// one planted level ("" when none was measured).
func achievedNote(fs []float64) string {
	if len(fs) == 0 {
		return ""
	}
	return fmt.Sprintf("measured end-to-end in the driver: %+.2f %% median, %+.2f to %+.2f %% over %d tunings",
		100*analysis.Median(fs), 100*slices.Min(fs), 100*slices.Max(fs), len(fs))
}

func joinNotes(notes ...string) string {
	var out []string
	for _, n := range notes {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}

func stddev(xs []float64) float64 {
	if len(xs) < 2 {
		return math.NaN()
	}
	var m float64
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	var s float64
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(xs)-1))
}
