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
	return time.Duration(len(k.Steps())) * k.StepDuration
}

// Knee step pacing, shared by the runner and EstimatedRuntime: each step is
// preceded by a warm-up at its rate (the scenario's warm-up, at most
// MaxKneeStepWarmup: connections and caches are already warm from the
// window before) and followed by an idle KneeCooldown that lets a
// saturated server drain its backlog.
const (
	MaxKneeStepWarmup = 100 * time.Millisecond
	KneeCooldown      = 50 * time.Millisecond
)

// KneeStepWarmup is the warm-up before each knee step.
func (l LoadConfig) KneeStepWarmup() time.Duration { return min(l.Warmup, MaxKneeStepWarmup) }

// kneeWallTime is a whole search: every step with its warm-up and
// cooldown (the search may stop early; this is its bound).
func (l LoadConfig) kneeWallTime() time.Duration {
	return l.Knee.searchTime() + time.Duration(len(l.Knee.Steps()))*(l.KneeStepWarmup()+KneeCooldown)
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
	if l.Shape == ShapeKnee {
		perRun = l.Warmup + l.kneeWallTime()
	} else {
		perRun = time.Duration(l.Repeats) * (l.Warmup + l.Duration)
		if l.Knee != nil {
			perRun += l.kneeWallTime()
		}
	}
	perRun *= time.Duration(max(1, l.Rounds))
	runs := len(s.Verifiers)
	if s.Control {
		runs += 2
	}
	variants := max(len(s.Matrix.Tokens), 1) * max(len(s.Matrix.Concurrency), 1) * max(len(s.Matrix.GOMAXPROCS), 1)
	return time.Duration(variants*runs) * perRun
}
