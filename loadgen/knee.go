package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// KneeOptions configures FindKnee. Zero fields take the defaults noted.
type KneeOptions struct {
	// StartRate is the first offered rate, req/s (default 100), unless
	// Known or Bracket say where to start.
	StartRate float64
	// MaxRate stops the ramp; 0 means no limit.
	MaxRate float64
	// Factor multiplies the rate between coarse ramp steps (default 1.5,
	// > 1); a first bad step ramps down by the same factor.
	Factor float64
	// Widen is the factor a wrong end of Bracket moves by (default
	// (1+Resolution)², so a bracket off by one step takes one bisection).
	Widen float64
	// StepDuration is the measured window of each step (default 2 s).
	StepDuration time.Duration
	// StepWarmup precedes each step's window (default 0).
	StepWarmup time.Duration
	// Cooldown is an idle pause after a bad step that lets the saturated
	// server drain its backlog before the next one (default 0). A good
	// step leaves no backlog, so none follows it.
	Cooldown time.Duration
	// MaxSteps bounds the number of steps, ramp and bisection together
	// (default 12). A search that runs out of steps keeps the bracket it
	// has and says so (Knee.Resolved false).
	MaxSteps int
	// Resolution ends the bisection once FirstBad/Rate ≤ 1+Resolution
	// (default 0.05: the knee is known to within 5 %).
	Resolution float64
	// Known, if > 0, is a rate already shown sustained (e.g. the constant
	// window measured just before at that rate, judged with Sustained):
	// the ramp starts one Factor above it and counts it as the last
	// sustained rate until a step beats it.
	Known float64
	// KnownBad, if > 0, is a rate already shown not sustained (a constant
	// window that fell short or missed the p99 bound): the search ramps
	// down from one Factor below it instead of climbing to it again.
	// Ignored when Known or Bracket is set.
	KnownBad float64
	// Bracket, if both ends are set (0 < lo < hi), is an earlier search's
	// [last sustained, first failed]: the search verifies lo, then hi,
	// moving a wrong end by Widen until it holds, then bisects. Later
	// rounds use it instead of repeating the coarse ramp.
	Bracket [2]float64
	// P99Bound is the highest acceptable p99 latency (default 100 ms).
	P99Bound time.Duration
	// MinExpected is the lowest acceptable ratio of responses matching
	// their kind's expected status (default 0.99).
	MinExpected float64
	// Confirm is how many marginal bad steps per search are run once more
	// at the same rate before they count (default 0: none). A marginal
	// step delivered at least MarginalFactor of its offered rate with the
	// expected statuses and p99 within twice P99Bound (a saturated
	// server's queue, and its p99, grow far beyond that within one
	// window), so it failed only by a little: on two shared cores
	// one scheduler stall at the end of a short window does that below
	// the knee, and a single such step used to set the bracket (and every
	// later round's) far too low. The step counts as good only if its
	// repeat is good; a server at its knee fails the repeat too. Repeats
	// do not count against MaxSteps.
	Confirm int
	// Attack carries the per-step attack settings (workers, timeouts,
	// connections, TLS). Its Rate, Duration, Warmup and ResultsPath are
	// set per step, its OnMeasureStart/OnMeasureEnd by StepHooks. A zero
	// Timeout defaults to max(1 s, 10 × P99Bound) so an overloaded step
	// cannot hang for vegeta's 30 s default.
	Attack Options
	// StepHooks, if set, is called before each step for the callbacks
	// that bracket its measured window (e.g. the server's CPU time); the
	// step's attack returns only after both have returned. Either may be
	// nil.
	StepHooks func(rate float64) (onStart, onEnd func())
	// OnStep, if set, is called after each step (e.g. to log progress).
	OnStep func(Step)
}

// Step phases.
const (
	PhaseRamp   = "ramp"   // coarse geometric ramp (up, or down after a first bad step)
	PhaseVerify = "verify" // checking an earlier bracket's ends (and widening it)
	PhaseBisect = "bisect" // geometric bisection of the bracket
	// PhaseConfirm repeats a marginal bad step at its rate (see
	// KneeOptions.Confirm); the repeat's verdict is the rate's.
	PhaseConfirm = "confirm"
)

// MarginalFactor is the achieved/offered ratio at or above which a bad
// step is marginal (see KneeOptions.Confirm).
const MarginalFactor = 0.9

// Step is one constant-rate attack of the knee search.
type Step struct {
	Phase   string  `json:"phase"` // PhaseRamp, PhaseVerify, PhaseBisect or PhaseConfirm
	Offered float64 `json:"offered_rps"`
	Good    bool    `json:"good"`
	// Reason says why a step is not good; empty when it is.
	Reason string  `json:"reason,omitempty"`
	Result *Result `json:"result"`
}

// Knee is the outcome of FindKnee: the bracket [Rate, FirstBad] the
// knee lies in.
type Knee struct {
	// Rate is the last sustained rate: the highest offered rate of a good
	// step (or Known) below FirstBad, 0 if none was good.
	Rate float64 `json:"rate"`
	// FirstBad is the first failed rate: the lowest offered rate of a bad
	// step, 0 if the ramp reached MaxRate or ran out of steps without one.
	FirstBad float64 `json:"first_bad"`
	// Resolved is set when FirstBad/Rate ≤ 1+Resolution: the knee is
	// known to the resolution asked for.
	Resolved bool `json:"resolved"`
	// CappedByMax is set when every step up to MaxRate was good: the knee
	// is above MaxRate (Rate is a lower bound).
	CappedByMax bool `json:"capped_by_max,omitempty"`
	// Steps lists every step in the order run, for plotting latency
	// against offered rate.
	Steps []Step `json:"steps"`
	// Interrupted is set when ctx ended the search early.
	Interrupted bool `json:"interrupted"`
}

func (o *KneeOptions) withDefaults() (KneeOptions, error) {
	d := *o
	if d.StartRate == 0 {
		d.StartRate = 100
	}
	if d.Factor == 0 {
		d.Factor = 1.5
	}
	if d.StepDuration == 0 {
		d.StepDuration = 2 * time.Second
	}
	if d.MaxSteps == 0 {
		d.MaxSteps = 12
	}
	if d.Resolution == 0 {
		d.Resolution = 0.05
	}
	if d.Widen == 0 {
		d.Widen = (1 + d.Resolution) * (1 + d.Resolution)
	}
	if d.P99Bound == 0 {
		d.P99Bound = 100 * time.Millisecond
	}
	if d.MinExpected == 0 {
		d.MinExpected = 0.99
	}
	if d.Attack.Timeout == 0 {
		d.Attack.Timeout = max(time.Second, 10*d.P99Bound)
	}
	switch {
	case !(d.StartRate > 0) || math.IsInf(d.StartRate, 0):
		return d, fmt.Errorf("start rate %v, want > 0", d.StartRate)
	case d.MaxRate < 0 || d.MaxRate > 0 && d.MaxRate < d.StartRate:
		return d, fmt.Errorf("max rate %v below start rate %v", d.MaxRate, d.StartRate)
	case !(d.Factor > 1):
		return d, fmt.Errorf("factor %v, want > 1", d.Factor)
	case d.StepDuration < 0 || d.StepWarmup < 0 || d.Cooldown < 0:
		return d, errors.New("negative step duration, warm-up or cooldown")
	case d.Confirm < 0:
		return d, fmt.Errorf("confirm %d, want >= 0", d.Confirm)
	case d.MaxSteps < 1:
		return d, fmt.Errorf("max steps %d, want >= 1", d.MaxSteps)
	case d.Resolution < 0 || d.P99Bound < 0 || d.MinExpected < 0 || d.MinExpected > 1:
		return d, errors.New("resolution, p99 bound or min expected ratio out of range")
	case !(d.Widen > 1) || math.IsInf(d.Widen, 0):
		return d, fmt.Errorf("widen %v, want > 1", d.Widen)
	case d.Known < 0 || math.IsNaN(d.Known) || math.IsInf(d.Known, 0):
		return d, fmt.Errorf("known rate %v, want >= 0", d.Known)
	case d.KnownBad < 0 || math.IsNaN(d.KnownBad) || math.IsInf(d.KnownBad, 0):
		return d, fmt.Errorf("known bad rate %v, want >= 0", d.KnownBad)
	case d.Bracket != [2]float64{} && !(d.Bracket[0] > 0 && d.Bracket[1] > d.Bracket[0] && !math.IsInf(d.Bracket[1], 0)):
		return d, fmt.Errorf("bracket %v, want 0 < lo < hi", d.Bracket)
	}
	return d, nil
}

// Sustained judges an attack by the knee search's rule (with opts'
// defaults applied): see judge. The runner uses it to let a constant
// window just measured count as a known sustained rate.
func Sustained(opts KneeOptions, r *Result) (good bool, reason string) {
	o, err := opts.withDefaults()
	if err != nil {
		return false, err.Error()
	}
	return o.judge(r)
}

// judge classifies a step: good when the offered load was delivered
// (achieved ≥ 99 % of offered: achieved is always compared with offered,
// as an open-model generator that falls behind sends less than asked),
// the server answered as expected and p99 stayed within bound.
func (o *KneeOptions) judge(r *Result) (good bool, reason string) {
	switch {
	case r.Metrics.Requests == 0:
		return false, "no requests measured"
	case r.ShortOfTarget:
		return false, fmt.Sprintf("achieved %.1f of %.1f req/s", r.AchievedRPS, r.OfferedRPS)
	case r.ExpectedRatio < o.MinExpected:
		return false, fmt.Sprintf("expected status ratio %.4f < %.4f", r.ExpectedRatio, o.MinExpected)
	case r.Metrics.Latencies.P99 > o.P99Bound:
		return false, fmt.Sprintf("p99 %v > %v", r.Metrics.Latencies.P99, o.P99Bound)
	}
	return true, ""
}

// Delivered says r delivered its offered load with the expected statuses
// (opts' defaults applied), whatever its p99: a window that misses only
// the latency bound may be a transient (a GC pause, a scheduler stall on
// two shared cores) rather than a capacity limit.
func Delivered(opts KneeOptions, r *Result) bool {
	o, err := opts.withDefaults()
	if err != nil {
		return false
	}
	return r.Metrics.Requests > 0 && !r.ShortOfTarget && r.ExpectedRatio >= o.MinExpected
}

// marginal says a bad step r failed by a little (see KneeOptions.Confirm).
func (o *KneeOptions) marginal(r *Result) bool {
	return r.Metrics.Requests > 0 && !r.Interrupted && r.ExpectedRatio >= o.MinExpected &&
		r.AchievedRPS >= MarginalFactor*r.OfferedRPS && r.Metrics.Latencies.P99 <= 2*o.P99Bound
}

// FindKnee searches the highest offered rate the server sustains, to
// within Resolution. Without Known or Bracket it ramps geometrically from
// StartRate by Factor until a step is bad (or MaxRate is reached; a first
// bad step ramps down instead), then bisects at the geometric midpoint of
// the last sustained and first failed rate until FirstBad/Rate ≤
// 1+Resolution or MaxSteps. With Known it ramps from one Factor above it,
// with KnownBad down from one Factor below it; with Bracket it verifies
// both ends first (see KneeOptions.Bracket).
// Every step runs a fresh targeter from mk; steps share one HTTP
// transport so connections stay warm. Total time is at most about
// (MaxSteps + Confirm) × (StepWarmup + StepDuration + Cooldown) plus
// response drain.
// Cancelling ctx returns the steps so far with Interrupted set.
func FindKnee(ctx context.Context, mk func() vegeta.Targeter, opts KneeOptions) (*Knee, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("find knee: %w", err)
	}
	if mk == nil {
		return nil, errors.New("find knee: nil targeter factory")
	}
	tp, err := newTransport(o.Attack)
	if err != nil {
		return nil, fmt.Errorf("find knee: %w", err)
	}
	defer tp.close()

	run := func(ctx context.Context, rate float64) (*Result, error) {
		ao := o.Attack
		ao.Rate, ao.Duration, ao.Warmup = rate, o.StepDuration, o.StepWarmup
		ao.ResultsPath, ao.OnMeasureStart, ao.OnMeasureEnd = "", nil, nil
		if o.StepHooks != nil {
			ao.OnMeasureStart, ao.OnMeasureEnd = o.StepHooks(rate)
		}
		if ao.Name == "" {
			ao.Name = "knee"
		}
		ao.Name = fmt.Sprintf("%s@%g", ao.Name, rate)
		return attack(ctx, mk(), ao, tp)
	}
	return findKnee(ctx, run, &o)
}

// findKnee is the search itself, separated from the attacks so it can be
// tested against a model server.
func findKnee(ctx context.Context, run func(context.Context, float64) (*Result, error), o *KneeOptions) (*Knee, error) {
	k := &Knee{}
	s := newSearch(o)
	confirms, counted := 0, 0
	// step runs one attack at rate and appends it; ok is false when the
	// search must stop (interrupted).
	step := func(rate float64, phase string) (st Step, ok bool, err error) {
		if n := len(k.Steps); n > 0 && !k.Steps[n-1].Good && o.Cooldown > 0 {
			t := time.NewTimer(o.Cooldown)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			k.Interrupted = true
			return st, false, nil
		}
		res, err := run(ctx, rate)
		if err != nil {
			return st, false, fmt.Errorf("find knee: step at %g req/s: %w", rate, err)
		}
		if res.Interrupted {
			// A partial step says nothing about the rate; keep it for the
			// record but do not judge it.
			k.Steps = append(k.Steps, Step{Phase: phase, Offered: rate, Reason: "interrupted", Result: res})
			k.Interrupted = true
			return st, false, nil
		}
		good, reason := o.judge(res)
		st = Step{Phase: phase, Offered: rate, Good: good, Reason: reason, Result: res}
		k.Steps = append(k.Steps, st)
		if o.OnStep != nil {
			o.OnStep(st)
		}
		return st, true, nil
	}
	for rate, phase, ok := s.next(); ok && counted < o.MaxSteps; rate, phase, ok = s.next() {
		counted++
		st, ok, err := step(rate, phase)
		if err != nil {
			return k, err
		}
		if !ok {
			break
		}
		good := st.Good
		if !good && confirms < o.Confirm && o.marginal(st.Result) {
			confirms++
			k.Steps[len(k.Steps)-1].Reason += " (marginal: repeated)"
			rep, ok, err := step(rate, PhaseConfirm)
			if err != nil {
				return k, err
			}
			if !ok {
				break
			}
			good = rep.Good
		}
		s.record(rate, good)
	}
	k.Rate, k.FirstBad = s.good, s.bad
	k.Resolved = s.resolved()
	k.CappedByMax = s.bad == 0 && o.MaxRate > 0 && s.good >= o.MaxRate
	return k, nil
}
