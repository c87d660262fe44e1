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
	// StartRate is the first offered rate, req/s (default 100).
	StartRate float64
	// MaxRate stops the ramp; 0 means no limit.
	MaxRate float64
	// Factor multiplies the rate between ramp steps (default 1.5, > 1).
	Factor float64
	// StepDuration is the measured window of each step (default 2 s).
	StepDuration time.Duration
	// StepWarmup precedes each step's window (default 0).
	StepWarmup time.Duration
	// Cooldown is an idle pause between steps that lets a saturated
	// server drain its backlog (default 0).
	Cooldown time.Duration
	// MaxSteps bounds the number of steps, ramp and bisection together
	// (default 12).
	MaxSteps int
	// Resolution ends the bisection once (firstBad-lastGood)/lastGood is
	// below it (default 0.05).
	Resolution float64
	// P99Bound is the highest acceptable p99 latency (default 100 ms).
	P99Bound time.Duration
	// MinExpected is the lowest acceptable ratio of responses matching
	// their kind's expected status (default 0.99).
	MinExpected float64
	// Attack carries the per-step attack settings (workers, timeouts,
	// connections, TLS). Its Rate, Duration, Warmup, ResultsPath and
	// measure callbacks are set per step. A zero Timeout defaults to
	// max(1 s, 10 × P99Bound) so an overloaded step cannot hang for
	// vegeta's 30 s default.
	Attack Options
	// OnStep, if set, is called after each step (e.g. to log progress).
	OnStep func(Step)
}

// Step is one constant-rate attack of the knee search.
type Step struct {
	Phase   string  `json:"phase"` // "ramp" or "bisect"
	Offered float64 `json:"offered_rps"`
	Good    bool    `json:"good"`
	// Reason says why a step is not good; empty when it is.
	Reason string  `json:"reason,omitempty"`
	Result *Result `json:"result"`
}

// Knee is the outcome of FindKnee.
type Knee struct {
	// Rate is the highest offered rate of a good step, 0 if none was good.
	Rate float64 `json:"rate"`
	// FirstBad is the lowest offered rate of a bad step, 0 if the ramp
	// reached MaxRate or ran out of steps without one.
	FirstBad float64 `json:"first_bad"`
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
	case d.MaxSteps < 1:
		return d, fmt.Errorf("max steps %d, want >= 1", d.MaxSteps)
	case d.Resolution < 0 || d.P99Bound < 0 || d.MinExpected < 0 || d.MinExpected > 1:
		return d, errors.New("resolution, p99 bound or min expected ratio out of range")
	}
	return d, nil
}

// judge classifies a step: good when the offered load was delivered
// (achieved ≥ 99 % of offered), the server answered as expected and p99
// stayed within bound.
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

// FindKnee searches the highest offered rate the server sustains. It ramps
// geometrically from StartRate by Factor until a step is bad (or MaxRate is
// reached), then bisects between the last good and first bad rate until
// Resolution or MaxSteps. Every step runs a fresh targeter from mk; steps
// share one HTTP transport so connections stay warm. Total time is at most
// about MaxSteps × (StepWarmup + StepDuration + Cooldown) plus response
// drain. Cancelling ctx returns the steps so far with Interrupted set.
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
	good, bad := 0.0, 0.0 // last good and first bad rate; 0 = none yet
	rate := o.StartRate
	phase := "ramp"
	for len(k.Steps) < o.MaxSteps {
		if len(k.Steps) > 0 && o.Cooldown > 0 {
			t := time.NewTimer(o.Cooldown)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			k.Interrupted = true
			break
		}
		res, err := run(ctx, rate)
		if err != nil {
			return k, fmt.Errorf("find knee: step at %g req/s: %w", rate, err)
		}
		if res.Interrupted {
			// A partial step says nothing about the rate; keep it for the
			// record but do not judge it.
			k.Steps = append(k.Steps, Step{Phase: phase, Offered: rate, Reason: "interrupted", Result: res})
			k.Interrupted = true
			break
		}
		ok, reason := o.judge(res)
		st := Step{Phase: phase, Offered: rate, Good: ok, Reason: reason, Result: res}
		k.Steps = append(k.Steps, st)
		if o.OnStep != nil {
			o.OnStep(st)
		}
		if ok {
			good = max(good, rate)
		} else if bad == 0 || rate < bad {
			bad = rate
		}

		if bad == 0 {
			// Still ramping.
			if o.MaxRate > 0 && rate >= o.MaxRate {
				break
			}
			rate *= o.Factor
			if o.MaxRate > 0 {
				rate = min(rate, o.MaxRate)
			}
			continue
		}
		phase = "bisect"
		if good > 0 && (bad-good)/good <= o.Resolution {
			break
		}
		if good == 0 && bad < o.StartRate*1e-3 {
			break // nothing is sustainable; stop halving
		}
		rate = (good + bad) / 2
	}
	k.Rate, k.FirstBad = good, bad
	return k, nil
}
