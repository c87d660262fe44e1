// Package scenarios defines the benchmark scenario file format (YAML), its
// strict parser and validator, matrix expansion into concrete variants and
// the shortened "quick" form used by `make bench-quick`.
//
// A scenario is data: which tokens exist, how they are hashed, what mix of
// valid and invalid requests is sent, at what load, against which server
// setup and verifiers, and which events (rotations, revocations, manual
// edits) happen during the measured window. Every file in this directory
// starts with a comment that says which question it answers.
//
// Parsing is strict: an unknown field, a value of the wrong type or a value
// out of range is an error that names the file, the line and the field, for
// example
//
//	scenarios/churn.yaml:12: field "rat" not found in load
//	scenarios/x.yaml:7: load.rate: must be > 0 unless shape is knee
//
// The parser does not import the verifier registry; callers pass the known
// verifier names so that the dependency points one way only.
//
// A file using most fields (defaults in the type docs; testdata/example.yaml
// is this example and is parsed by the tests):
//
//	# Question: how long is a rotated secret still accepted?
//	name: example            # default: the file's base name
//	description: free text
//	control: false           # also measure the noauth control server (and its A/A copy)
//	target: false            # the speed targets apply here (valid-only mix required)
//	hash: {scheme: sha256, cost: 0}
//	mix: {valid: 9, wrong_secret: 1, unknown: 0, malformed: 0}
//	load:
//	  shape: constant        # constant | stages (with stages: [{rate, duration}]) | knee
//	  rate: 100              # req/s, constant only
//	  cached_rate: 1000      # req/s for cached verifiers and controls (default: rate)
//	  knee: {start: 100, max: 800, factor: 2, step_duration: 500ms, p99_bound: 50ms, max_steps: 0, refine_steps: 4}
//	  duration: 4s
//	  warmup: 1s
//	  repeats: 1             # windows per verifier per round
//	  rounds: 3              # interleaved rounds (order rotated each round)
//	  header_form: pbs       # pbs | pdm | pve
//	  parallel: false        # cells of a round at once (light event scenarios)
//	server: {tls: false, processes: 1, ttl: 60s}
//	verifiers: [uncached, generation, mtime, ttl]
//	matrix:                  # instead of tokens, load.concurrency, server.gomaxprocs
//	  tokens: [10, 100]
//	  concurrency: [0, 8]    # 0 = open model
//	  gomaxprocs: [1, 2]     # 0 = Go's default
//	events:
//	  - {at: 1s, kind: api-rotate, token: 0, from: self, probe_rate: 50}
//	  - {at: 2s, kind: coarse-mtime, token: bench@pbs!t1, granularity: 1s}
//	  - {at: 3s, kind: stale-stat, token: 2, ttl: 1s}
//
// Ticket scenarios (issue 12) load PVE login tickets instead of tokens;
// they name impl/ticket key-cache strategies, measured as verifiers named
// "ticket/<strategy>" (the caller's known names include them, see
// TicketNames), and have no tokens, hash, mix, verifiers, events or
// target:
//
//	auth: ticket
//	strategies: [uncached, mtime]   # default: every known strategy
//	tickets:
//	  key_bits: 2048
//	  mix: {valid: 9, old_key: 0, expired: 1, bad_signature: 1, garbage: 0}
//	load: {rate: 1000, duration: 1s}
//
// A cluster block instead of load makes the scenario seed 002's FUSE
// experiment (internal/cluster), with no load, server, matrix or control:
//
//	auth: ticket
//	strategies: [mtime, mtime-reopen]
//	cluster:
//	  nodes: 3
//	  events: [key-touch-yesterday]   # or same-second-rotation
//	  attr_timeouts: [0s, 1s, 5s]     # the matrix dimension
//	  trials: 2
//	  rate: 150
//	  lead: 250ms
//	  observe: 1500ms
//	  bucket: 250ms
//	  ttl: 1s                          # content-ttl's TTL
//	  key_bits: 2048
package scenarios

import (
	"fmt"
	"math"
	"time"
)

// Scenario is one parsed, validated and defaulted scenario file.
type Scenario struct {
	// Name identifies the scenario in results; default: the file's base
	// name without extension. Letters, digits, '.', '_' and '-' only.
	Name string `yaml:"name"`
	// Description is free text for reports.
	Description string `yaml:"description"`
	// Control also measures the noauth control server (same HTTP stack, no
	// verification) so reports can subtract the harness's own cost.
	// Default false; the steady scenarios set it. With it the runner also
	// measures a second, identical control server in the same rounds: the
	// ratio between the two is the run's A/A noise floor.
	Control bool `yaml:"control"`
	// Target marks the scenarios where the speed targets (cached
	// verifiers' speedup over uncached, cost against the control) apply:
	// steady valid-only load, not floods of wrong secrets that are never
	// cached. Requires a valid-only mix. Default false; steady.yaml sets
	// it. The runner records it on every run of the scenario.
	Target bool `yaml:"target"`
	// Tokens is the number of generated tokens in token.shadow, >= 1.
	// Default DefaultTokens. Token i has the id TokenID(i). Must not be set
	// together with matrix.tokens; with that axis it holds the smallest
	// value until Expand applies each one.
	Tokens int `yaml:"tokens"`
	// Hash says how the generated secrets are hashed.
	Hash Hash `yaml:"hash"`
	// Mix weights the kinds of requests sent. Default: valid only.
	Mix Mix `yaml:"mix"`
	// Load is the offered load.
	Load LoadConfig `yaml:"load"`
	// Server is the server-side setup.
	Server Server `yaml:"server"`
	// Verifiers to measure, in order. Default: every known verifier, in the
	// order the caller passed them. Names must be known and unique.
	Verifiers []string `yaml:"verifiers"`
	// Matrix, if not empty, sweeps parameters; see Expand.
	Matrix Matrix `yaml:"matrix"`
	// Events happen during the measured window, sorted by At (stable).
	Events []Event `yaml:"events"`
	// Auth: token (default) or ticket. A ticket scenario has no tokens,
	// hash, mix, verifiers, events, target, matrix.tokens,
	// load.header_form or server.ttl; it names Strategies instead.
	Auth AuthKind `yaml:"auth"`
	// Strategies are the ticket key-cache strategies to measure (auth:
	// ticket only), in order; default all known. Parse sets Verifiers to
	// their result names ("ticket/mtime"), so rounds, budgets and
	// reports treat them like verifiers.
	Strategies []string `yaml:"strategies"`
	// Tickets configures the ticket load (auth: ticket only).
	Tickets Tickets `yaml:"tickets"`
	// Cluster, if set (auth: ticket only), makes this scenario seed 002's
	// FUSE cluster experiment instead of a load run; see Cluster.
	Cluster *Cluster `yaml:"cluster"`

	// Path is the file the scenario was parsed from.
	Path string `yaml:"-"`
	// Question is the file's leading "# Question:" comment up to its
	// first question mark, joined into one line ("" without one), so a
	// report can head the scenario with what it asks.
	Question string `yaml:"-"`
}

// Scheme names a crypt hash scheme for the generated secrets.
type Scheme string

// Known hash schemes.
const (
	SchemeSHA256   Scheme = "sha256"   // $5$, PBS before 2024
	SchemeSHA512   Scheme = "sha512"   // $6$
	SchemeYescrypt Scheme = "yescrypt" // $y$, PBS today
)

// Hash configures the crypt hash of the generated secrets.
type Hash struct {
	// Scheme: sha256 (default), sha512 or yescrypt.
	Scheme Scheme `yaml:"scheme"`
	// Cost: 0 means the scheme's default (see EffectiveCost). For sha256
	// and sha512 it is the rounds, 1000..999999999; for yescrypt the
	// libxcrypt cost, 1..11.
	Cost int `yaml:"cost"`
}

// Default costs per scheme, as PBS/libxcrypt use them.
const (
	DefaultSHARounds    = 5000
	DefaultYescryptCost = 5
)

// EffectiveCost returns Cost, or the scheme's default when Cost is 0.
func (h Hash) EffectiveCost() int {
	if h.Cost != 0 {
		return h.Cost
	}
	if h.Scheme == SchemeYescrypt {
		return DefaultYescryptCost
	}
	return DefaultSHARounds
}

// Mix weights the request kinds. Weights are >= 0 and not all 0; they need
// not sum to anything. When the mix field is absent the default is valid
// only.
type Mix struct {
	Valid       float64 `yaml:"valid"`        // current secret of an existing token
	WrongSecret float64 `yaml:"wrong_secret"` // existing token id, wrong secret
	Unknown     float64 `yaml:"unknown"`      // well-formed id that is not in token.shadow
	Malformed   float64 `yaml:"malformed"`    // header that does not parse
}

// Fractions returns the weights normalised to sum 1 (all 0 for a zero mix).
func (m Mix) Fractions() Mix {
	t := m.Valid + m.WrongSecret + m.Unknown + m.Malformed
	if t <= 0 {
		return Mix{}
	}
	return Mix{m.Valid / t, m.WrongSecret / t, m.Unknown / t, m.Malformed / t}
}

// Shape is the load's form over time.
type Shape string

// Load shapes.
const (
	// ShapeConstant offers Load.Rate for Load.Duration.
	ShapeConstant Shape = "constant"
	// ShapeStages offers each stage's rate for its duration, in order.
	ShapeStages Shape = "stages"
	// ShapeKnee only runs the knee search of Load.Knee.
	ShapeKnee Shape = "knee"
)

// HeaderForm is the Authorization header dialect sent by the client.
type HeaderForm string

// Header forms.
const (
	HeaderPBS HeaderForm = "pbs" // PBSAPIToken=id:secret
	HeaderPDM HeaderForm = "pdm" // PDMAPIToken=id:secret
	HeaderPVE HeaderForm = "pve" // PVEAPIToken=id=secret
)

// LoadConfig is the offered load of one run. A variant is measured in
// Rounds interleaved rounds: each round runs every verifier (and the
// controls) once, in an order rotated by one each round, so machine drift
// falls on all alike. Within its turn a verifier gets warm-up (not
// measured), then the measured window, Repeats times for constant and
// stages loads, then the knee search if one is configured (once per
// round, so the knee has a spread).
type LoadConfig struct {
	// Shape: constant (default), stages or knee.
	Shape Shape `yaml:"shape"`
	// Rate in requests/s for shape constant, > 0. Must be absent for the
	// other shapes.
	Rate float64 `yaml:"rate"`
	// CachedRate, if set (shape constant only, > 0), is the rate offered
	// to the cached verifiers and the controls instead of Rate, so that
	// their windows hold thousands of requests (server CPU per request
	// is then resolved) while uncached stays below its knee.
	CachedRate float64 `yaml:"cached_rate"`
	// Stages for shape stages, at least one; only with shape stages.
	Stages []Stage `yaml:"stages"`
	// Knee configures a search for the rate where p99 latency exceeds a
	// bound or the server falls short of the offered rate. Required for
	// shape knee; with constant or stages it runs after the repeats.
	Knee *Knee `yaml:"knee"`
	// Duration of the measured window, > 0, default DefaultDuration. For
	// shape stages it defaults to (and must equal) the stages' sum; for
	// shape knee it must be absent.
	Duration time.Duration `yaml:"duration"`
	// Warmup before the measured window, >= 0, default DefaultWarmup (or
	// Duration, if that is shorter); not longer than Duration.
	Warmup time.Duration `yaml:"warmup"`
	// Repeats of the measured window per verifier and round,
	// 1..MaxRepeats, default 1.
	Repeats int `yaml:"repeats"`
	// Rounds of interleaved measurement, 1..MaxRounds, default
	// DefaultRounds. Intervals over rounds need at least 3.
	Rounds int `yaml:"rounds"`
	// Concurrency is the number of client workers (connections); 0 means
	// the open model: requests are sent at the rate whatever the latency.
	// Must not be set together with matrix.concurrency.
	Concurrency int `yaml:"concurrency"`
	// HeaderForm: pbs (default), pdm or pve.
	HeaderForm HeaderForm `yaml:"header_form"`
	// Parallel runs every cell's turn of a round at once (each with its
	// own servers, token file, load and probes) instead of one after
	// another. For event scenarios whose question is staleness, not cost,
	// at light load: their windows then overlap, so their CPU and latency
	// figures are measured beside the other cells' load. Not with a knee
	// search. Default false.
	Parallel bool `yaml:"parallel"`
}

// Stage is one step of a staged load.
type Stage struct {
	Rate     float64       `yaml:"rate"`     // requests/s, > 0
	Duration time.Duration `yaml:"duration"` // > 0
}

// Knee configures a knee search: rates Start, Start*Factor, ... up to Max
// (the last step is clamped to Max), each for StepDuration, stopping early
// when p99 latency exceeds P99Bound or the achieved rate falls short of
// the offered one.
type Knee struct {
	Start        float64       `yaml:"start"`         // first rate, req/s, > 0
	Max          float64       `yaml:"max"`           // last rate, req/s, > Start
	StepDuration time.Duration `yaml:"step_duration"` // > 0, default DefaultKneeStep
	P99Bound     time.Duration `yaml:"p99_bound"`     // > 0, default DefaultKneeP99Bound
	Factor       float64       `yaml:"factor"`        // > 1, default DefaultKneeFactor
	MaxSteps     int           `yaml:"max_steps"`     // first round's steps, ramp and bisection; 0 = the ramp to Max plus a full bisection
	// RefineSteps bounds each later round's search, which verifies the
	// previous round's bracket (and widens and bisects it where it no
	// longer holds) instead of repeating the ramp; 1..MaxKneeSteps,
	// default DefaultKneeRefineSteps.
	RefineSteps int `yaml:"refine_steps"`
}

// StepBudget is the most steps round's search may run: MaxSteps (or the
// whole ramp plus a full bisection) in round 1, RefineSteps after.
func (k Knee) StepBudget(round int) int {
	if round > 1 && k.RefineSteps > 0 {
		return k.RefineSteps
	}
	if round > 1 {
		return DefaultKneeRefineSteps
	}
	if k.MaxSteps > 0 {
		return k.MaxSteps
	}
	return len(k.Steps()) + k.BisectSteps()
}

// BisectSteps is how many geometric bisections take a bracket one
// ramp Factor wide down to KneeResolution.
func (k Knee) BisectSteps() int {
	f := k.Factor
	if f == 0 {
		f = DefaultKneeFactor
	}
	if !(f > 1+KneeResolution) {
		return 0
	}
	return int(math.Ceil(math.Log2(math.Log(f) / math.Log1p(KneeResolution))))
}

// Steps returns the offered rate of each coarse ramp step, at most
// MaxKneeSteps (and at most MaxSteps).
func (k Knee) Steps() []float64 {
	f := k.Factor
	if f == 0 {
		f = DefaultKneeFactor
	}
	var out []float64
	if !(k.Start > 0) || !(f > 1) || math.IsInf(k.Start, 0) {
		return nil
	}
	for r := k.Start; len(out) < MaxKneeSteps; r *= f {
		if r >= k.Max {
			out = append(out, k.Max)
			break
		}
		out = append(out, r)
	}
	if k.MaxSteps > 0 && len(out) > k.MaxSteps {
		out = out[:k.MaxSteps]
	}
	return out
}

// Server is the server-side setup.
type Server struct {
	// GOMAXPROCS of each server process; 0 = the Go runtime's default.
	// Must not be set together with matrix.gomaxprocs.
	GOMAXPROCS int `yaml:"gomaxprocs"`
	// TLS serves HTTPS (self-signed) instead of HTTP.
	TLS bool `yaml:"tls"`
	// Processes serving the same token.shadow and sharing the generation
	// counter, 1..MaxProcesses, default 1.
	Processes int `yaml:"processes"`
	// TTL of the ttl verifier's metadata window, > 0, default
	// DefaultServerTTL (PBS's 60 s).
	TTL time.Duration `yaml:"ttl"`
}

// Matrix sweeps parameters; Expand builds the cartesian product. Each axis
// has 1..MaxMatrixAxis distinct values.
type Matrix struct {
	Tokens      []int `yaml:"tokens"`      // each >= 1
	Concurrency []int `yaml:"concurrency"` // each >= 0
	GOMAXPROCS  []int `yaml:"gomaxprocs"`  // each >= 0
}

// Empty reports whether no axis is set.
func (m Matrix) Empty() bool {
	return len(m.Tokens) == 0 && len(m.Concurrency) == 0 && len(m.GOMAXPROCS) == 0
}

// String is a short human description for logs.
func (s *Scenario) String() string {
	return fmt.Sprintf("%s (%s, %d tokens, %s)", s.Name, s.Load.Shape, s.Tokens, s.Load.Measured())
}
