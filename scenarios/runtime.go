package scenarios

import (
	"time"
)

// Measured returns the length of one measured window: Duration for
// constant and stages loads, the knee search's total for shape knee.
func (l LoadConfig) Measured() time.Duration {
	if l.Shape == ShapeKnee && l.Knee != nil {
		return l.Knee.searchTime()
	}
	return l.Duration
}

func (k *Knee) searchTime() time.Duration {
	return time.Duration(k.StepBudget(1)) * k.StepDuration
}

// Knee step pacing, shared by the runner and EstimatedRuntime: each step is
// preceded by a warm-up at its rate (the scenario's warm-up, at most
// MaxKneeStepWarmup: connections and caches are already warm from the
// window before, the warm-up only lets the new rate settle) and a bad
// step is followed by an idle KneeCooldown that lets the saturated server
// drain its backlog (the estimate counts it after every step: a bound).
const (
	MaxKneeStepWarmup = 50 * time.Millisecond
	KneeCooldown      = 50 * time.Millisecond
)

// KneeStepWarmup is the warm-up before each knee step.
func (l LoadConfig) KneeStepWarmup() time.Duration { return min(l.Warmup, MaxKneeStepWarmup) }

// kneeWallTime is a whole search in round (1-based): every step of its
// budget with its warm-up and cooldown (the search may stop early; this
// is its bound).
func (l LoadConfig) kneeWallTime(round int) time.Duration {
	return time.Duration(l.Knee.StepBudget(round)) * (l.Knee.StepDuration + l.KneeStepWarmup() + KneeCooldown)
}

// EstimatedRuntime is the summed length of all warm-ups, measured windows
// and knee steps (with their warm-ups and cooldowns) of every variant,
// round and verifier (plus the noauth
// control and its A/A copy when Control is set). It excludes setup such as
// hashing the tokens and starting servers, and is what the suite budget
// test adds up.
//
// For a cluster scenario it is the experiment's wall time including each
// trial's setup (ClusterTrialSetup), which dominates there.
func (s *Scenario) EstimatedRuntime() time.Duration {
	if s.Cluster != nil {
		return s.Cluster.runtime(len(s.Strategies))
	}
	l := s.Load
	var perRun time.Duration
	for round := 1; round <= max(1, l.Rounds); round++ {
		if l.Shape == ShapeKnee {
			perRun += l.Warmup
		} else {
			perRun += time.Duration(l.Repeats) * (l.Warmup + l.Duration)
		}
		if l.Knee != nil {
			perRun += l.kneeWallTime(round)
		}
	}
	runs := len(s.Verifiers)
	if s.Control {
		runs += 2
	}
	if l.Parallel {
		runs = 1 // a round's cells run at once
	}
	variants := max(len(s.Matrix.Tokens), 1) * max(len(s.Matrix.Concurrency), 1) * max(len(s.Matrix.GOMAXPROCS), 1)
	return time.Duration(variants*runs) * perRun
}

// Setup estimates, used by EstimatedSetup and the suite budget test: an
// upper estimate of what a variant costs besides its phases (generating
// its token file or ticket keys, starting every cell's servers at once,
// stopping them), and of each turn's bookkeeping (counters, profile start
// and stop, writing its vegeta results and profile).
const (
	SetupPerVariant = 1 * time.Second
	SetupPerTurn    = 60 * time.Millisecond
)

// EstimatedSetup is the scenario's time besides EstimatedRuntime: per
// variant SetupPerVariant, per turn SetupPerTurn. A cluster scenario's
// estimate already holds its setup.
func (s *Scenario) EstimatedSetup() time.Duration {
	if s.Cluster != nil {
		return 0
	}
	cells := len(s.Verifiers)
	if s.Control {
		cells += 2
	}
	variants := max(len(s.Matrix.Tokens), 1) * max(len(s.Matrix.Concurrency), 1) * max(len(s.Matrix.GOMAXPROCS), 1)
	turns := variants * cells * max(1, s.Load.Rounds) * max(1, s.Load.Repeats)
	return time.Duration(variants)*SetupPerVariant + time.Duration(turns)*SetupPerTurn
}
