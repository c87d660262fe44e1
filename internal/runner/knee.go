package runner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sync"

	"github.com/google/pprof/profile"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/authbench/authbench/internal/flame"
	"github.com/authbench/authbench/internal/outfile"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/loadgen"
	"github.com/authbench/authbench/scenarios"
)

// kneeOptions are a cell's knee search settings for one round. Round 1
// runs the coarse ramp (from above this round's constant window if that
// window was sustained by the search's own rule, from the window's rate
// again if it missed only the p99 bound, down from below it if it fell
// short) and bisects; later rounds
// verify the previous round's bracket instead and widen it where it no
// longer holds, within the scenario's smaller refine budget.
func kneeOptions(sc *scenarios.Scenario, c *cell, round int) loadgen.KneeOptions {
	k := sc.Load.Knee
	ko := loadgen.KneeOptions{
		StartRate: k.Start, MaxRate: k.Max, Factor: k.Factor, StepDuration: k.StepDuration,
		StepWarmup: sc.Load.KneeStepWarmup(), Cooldown: scenarios.KneeCooldown,
		MaxSteps: k.StepBudget(round), P99Bound: k.P99Bound, Attack: c.attack,
		Resolution: scenarios.KneeResolution, Confirm: scenarios.KneeConfirm,
	}
	if ko.Factor == 0 {
		ko.Factor = scenarios.DefaultKneeFactor
	}
	if b, ok := nextBracket(c.prevKnee, ko); round > 1 && ok {
		ko.Bracket = b
		return ko
	}
	if w := c.lastWindow; w != nil && w.OfferedRPS >= k.Start/ko.Factor && w.OfferedRPS < k.Max {
		switch ok, _ := loadgen.Sustained(ko, w); {
		case ok:
			ko.Known = w.OfferedRPS
		case loadgen.Delivered(ko, w):
			// Only the p99 bound was missed: one spike in one window is no
			// capacity limit (a full suite saw cached verifiers at 4× below
			// their knee miss it once, and the whole search then stayed
			// below it), so the search's first step tests the rate again.
			ko.StartRate = w.OfferedRPS
		case w.Metrics.Requests > 0 && !w.Interrupted:
			ko.KnownBad = w.OfferedRPS
		}
	}
	return ko
}

// nextBracket is the bracket a later round starts from: the previous
// search's, or where it ran out of steps with one end only, that end and
// one ramp factor beyond it. None after a search capped by its max (the
// ramp from the window finds that again) or one without a verdict.
func nextBracket(p *loadgen.Knee, ko loadgen.KneeOptions) ([2]float64, bool) {
	switch {
	case p == nil || p.CappedByMax:
		return [2]float64{}, false
	case p.Rate > 0 && p.FirstBad > p.Rate:
		return [2]float64{p.Rate, p.FirstBad}, true
	case p.Rate > 0 && p.FirstBad == 0:
		hi := p.Rate * ko.Factor
		if ko.MaxRate > 0 {
			hi = min(hi, ko.MaxRate)
		}
		return [2]float64{p.Rate, hi}, hi > p.Rate
	case p.Rate == 0 && p.FirstBad > 0:
		return [2]float64{p.FirstBad / ko.Factor, p.FirstBad}, true
	}
	return [2]float64{}, false
}

// stepMeasure brackets each knee step with the servers' own CPU time
// (child processes only: in-process servers share this process's CPU time
// with the load generator), so a step that fell short while the server
// had CPU to spare shows the generator, not the server, as the limit; and
// with a CPU profile, so the sustained steps' samples can be pooled. The
// CPU time runs from the step's window start to the stats answer after
// its end, which a saturated server may delay: on a failed step it is an
// upper bound.
type stepMeasure struct {
	servers *serverSet
	ctx     context.Context
	mu      sync.Mutex
	cpu     []float64          // per step, in order; NaN when not measured
	profs   []*profile.Profile // per step, in order; nil when not taken
	errs    []error
}

func (s *stepMeasure) hooks(float64) (func(), func()) {
	var before float64
	cpuOK, profOK := false, false
	start := func() {
		if !s.servers.inProcess {
			if st, err := s.servers.stats(s.ctx); err == nil {
				before, cpuOK = sumCPU(st), true
			}
		}
		profOK = s.servers.startProfile(s.ctx) == nil
	}
	end := func() {
		var p *profile.Profile
		var err error
		if profOK {
			p, err = s.servers.stopProfile(s.ctx)
		}
		v := math.NaN()
		if cpuOK {
			if st, err := s.servers.stats(s.ctx); err == nil {
				v = sumCPU(st) - before
			}
		}
		s.mu.Lock()
		s.cpu, s.profs = append(s.cpu, v), append(s.profs, p)
		if err != nil {
			s.errs = append(s.errs, err)
		}
		s.mu.Unlock()
	}
	return start, end
}

// pooled merges the sustained steps' profiles; nil without any.
func (s *stepMeasure) pooled(steps []loadgen.Step) (*profile.Profile, error) {
	var ps []*profile.Profile
	for i, st := range steps {
		if st.Good && i < len(s.profs) && s.profs[i] != nil {
			ps = append(ps, s.profs[i])
		}
	}
	switch len(ps) {
	case 0:
		return nil, nil
	case 1:
		return ps[0], nil
	}
	return flame.Merge(ps)
}

// knee runs the max-rate search of one turn and records each step and
// the knee, tagged with the round: one search per round gives the knee a
// spread. The generator ceiling is applied per variant once every round
// has run (applyCeiling).
func (r *runner) knee(ctx context.Context, sc *scenarios.Scenario, c *cell, round int) error {
	ko := kneeOptions(sc, c, round)
	sm := &stepMeasure{servers: c.servers, ctx: context.WithoutCancel(ctx)}
	ko.StepHooks = sm.hooks
	kn, err := loadgen.FindKnee(ctx, func() vegeta.Targeter { return c.targeter }, ko)
	if err != nil {
		return err
	}
	if kn.Interrupted {
		return ctx.Err()
	}
	if err := errors.Join(sm.errs...); err != nil {
		return fmt.Errorf("knee step profile: %w", err)
	}
	c.prevKnee = kn
	base := c.base(sc, round)
	for i, st := range kn.Steps {
		run := base
		run.Phase = results.PhaseKneeStep
		run.KneePhase = st.Phase
		run.KneeStepSustained = st.Good
		run.Repeat = i + 1
		fillFromAttack(&run, st.Result)
		if i < len(sm.cpu) && !math.IsNaN(sm.cpu[i]) && sm.cpu[i] > 0 {
			run.ServerCPUSeconds = sm.cpu[i]
			if run.Requests > 0 {
				run.CPUSecondsPer1kReq = sm.cpu[i] / float64(run.Requests) * 1000
				run.CPUSource = "rusage"
			}
		}
		r.out.Runs = append(r.out.Runs, run)
	}
	run := base
	run.Phase = results.PhaseKnee
	run.Repeat = round
	run.KneeRPS = kn.Rate
	run.KneeFirstFailedRPS = kn.FirstBad
	run.KneeResolved = kn.Resolved
	run.KneeSteps = len(kn.Steps)
	run.KneeCapped = kn.FirstBad == 0
	if kn.CappedByMax {
		run.KneeCappedBy = results.KneeCappedByMax
	}
	p, err := sm.pooled(kn.Steps)
	if err != nil {
		return fmt.Errorf("pool knee profiles: %w", err)
	}
	if p != nil {
		run.KneeProfile = results.Layout{}.KneeProfile(sc.Name, c.name, round)
		if err := outfile.Write(filepath.Join(r.opts.OutDir, filepath.FromSlash(run.KneeProfile)), p.Write); err != nil {
			return fmt.Errorf("save knee profile: %w", err)
		}
	}
	r.out.Runs = append(r.out.Runs, run)
	return nil
}

// applyCeiling computes the variant's generator ceiling from its control
// knee searches (loadgen.GeneratorCeiling) and marks every knee of the
// variant at or above loadgen.CeilingFraction of it as capped by the
// generator (a knee capped by the search's max stays so). Runs from
// index from on belong to the variant.
func (r *runner) applyCeiling(variant string, from int) {
	var controls []float64
	for _, run := range r.out.Runs[from:] {
		if run.Phase == results.PhaseKnee && isControl(run.Verifier) {
			controls = append(controls, run.KneeRPS)
		}
	}
	ceiling, n := loadgen.GeneratorCeiling(controls)
	if n == 0 {
		return
	}
	lo, hi := math.Inf(1), 0.0
	for _, k := range controls {
		if k > 0 {
			lo, hi = min(lo, k), max(hi, k)
		}
	}
	r.out.GeneratorCeilings = append(r.out.GeneratorCeilings, results.GeneratorCeiling{
		Scenario: variant, RPS: ceiling, N: n, MinRPS: lo, MaxRPS: hi, CeilingFraction: loadgen.CeilingFraction,
	})
	for i := from; i < len(r.out.Runs); i++ {
		run := &r.out.Runs[i]
		if run.Phase != results.PhaseKnee {
			continue
		}
		run.GeneratorCeilingRPS = ceiling
		if run.KneeCappedBy == "" && loadgen.CappedByGenerator(run.KneeRPS, ceiling) {
			run.KneeCappedBy = results.KneeCappedByGenerator
		}
	}
}
