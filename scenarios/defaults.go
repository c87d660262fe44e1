package scenarios

import (
	"time"
)

// Defaults applied by Parse when a field is absent.
const (
	DefaultTokens       = 1
	DefaultDuration     = 5 * time.Second
	DefaultWarmup       = 1 * time.Second
	DefaultRepeats      = 1
	DefaultRounds       = 3
	DefaultServerTTL    = 60 * time.Second // PBS's TOKEN_SECRET_CACHE_TTL_SECS
	DefaultProcesses    = 1
	DefaultProbeRate    = 50.0 // req/s of the revocation probe
	DefaultKneeStep     = 1 * time.Second
	DefaultKneeP99Bound = 100 * time.Millisecond
	DefaultKneeFactor   = 2.0
	// DefaultKneeRefineSteps: a later round's search verifies both ends
	// of the previous bracket and has two steps to widen and bisect one
	// that moved by up to (1.05)² ≈ 10 %.
	DefaultKneeRefineSteps = 4
)

// KneeResolution is the knee search's bracket resolution: it bisects
// until first failed / last sustained ≤ 1 + KneeResolution.
const KneeResolution = 0.05

// KneeConfirm is how many marginal bad steps a knee search repeats before
// it counts them (loadgen.KneeOptions.Confirm): one per search keeps the
// first end-of-window stall from setting the bracket. Two cost the default
// suite 73 extra steps (about 40 s, which took make bench past 9 min).
const KneeConfirm = 1

// Limits checked by the validator. They keep a typo (or a fuzzer) from
// asking for a day-long run or a million-variant matrix.
const (
	MaxTokens      = 1_000_000
	MaxProcesses   = 4
	MaxConcurrency = 10_000
	MaxGOMAXPROCS  = 1024
	MaxRepeats     = 100
	MaxRounds      = 100
	MaxDuration    = time.Hour
	MaxMatrixAxis  = 16 // values per matrix axis
	MaxKneeSteps   = 50
	MaxEvents      = 1000
)

// Quick-mode caps, see (*Scenario).Quick.
const (
	QuickDuration  = 500 * time.Millisecond
	QuickWarmup    = 200 * time.Millisecond
	QuickKneeStep  = 150 * time.Millisecond
	QuickKneeSteps = 2
	// QuickRounds keeps two interleaved rounds: a smoke run still shows
	// a min-max spread and exercises the rotation, within 3 minutes.
	QuickRounds = 2
)
