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
//	  knee: {start: 100, max: 800, factor: 2, step_duration: 500ms, p99_bound: 50ms, max_steps: 0}
//	  duration: 4s
//	  warmup: 1s
//	  repeats: 1             # windows per verifier per round
//	  rounds: 3              # interleaved rounds (order rotated each round)
//	  header_form: pbs       # pbs | pdm | pve
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
	"strconv"
	"strings"
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
)

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
	QuickKneeStep  = 200 * time.Millisecond
	QuickKneeSteps = 2
	// QuickRounds keeps two interleaved rounds: a smoke run still shows
	// a min-max spread and exercises the rotation, within 3 minutes.
	QuickRounds = 2
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
	MaxSteps     int           `yaml:"max_steps"`     // >= 0; 0 = no limit but Max
}

// Steps returns the offered rate of each step, at most MaxKneeSteps.
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

// EventKind names what happens at an event.
type EventKind string

// Event kinds. Every kind names the token whose old secret the revocation
// probe keeps sending, so the staleness of each event is measured.
const (
	// EventAPIRotate replaces the token's secret through the API (file
	// lock, atomic rewrite, generation bump).
	EventAPIRotate EventKind = "api-rotate"
	// EventAPIRevoke deletes the token through the API.
	EventAPIRevoke EventKind = "api-revoke"
	// EventAPIAdd adds a new token through the API; Token must be a new id.
	EventAPIAdd EventKind = "api-add"
	// EventManualEdit deletes the token from token.shadow by hand: no
	// lock, no generation bump (an admin revoking a leaked token).
	EventManualEdit EventKind = "manual-edit"
	// EventManualRestore gives the token a new hash of the same length by
	// hand and sets the earlier mtime back (as cp -p of a backup or
	// touch -r would), so (mtime, len) look unchanged.
	EventManualRestore EventKind = "manual-restore"
	// EventCoarseMtime is a manual edit on a filesystem whose mtime has
	// the given Granularity, within the same mtime tick as the last write.
	EventCoarseMtime EventKind = "coarse-mtime"
	// EventStaleStat is a manual delete of the token while stat(2)
	// answers are cached for TTL (a FUSE filesystem such as pmxcfs).
	EventStaleStat EventKind = "stale-stat"
)

// EventKinds lists the known event kinds in documentation order.
func EventKinds() []EventKind {
	return []EventKind{EventAPIRotate, EventAPIRevoke, EventAPIAdd, EventManualEdit, EventManualRestore, EventCoarseMtime, EventStaleStat}
}

// IsAPI reports whether the event goes through the API (and so has From).
func (k EventKind) IsAPI() bool {
	return k == EventAPIRotate || k == EventAPIRevoke || k == EventAPIAdd
}

// Origin says which process performs an API event.
type Origin string

// Origins.
const (
	// FromSelf: through the API of the (first) serving process.
	FromSelf Origin = "self"
	// FromOther: from another OS process that shares the file lock and the
	// generation counter but not the serving process's cache.
	FromOther Origin = "other"
)

// Event is one timeline entry.
type Event struct {
	// At is the time from the start of the measured window, > 0 and
	// shorter than the measured duration.
	At time.Duration `yaml:"at"`
	// Kind of event.
	Kind EventKind `yaml:"kind"`
	// Token as written: an index into the generated tokens ("0") or an id.
	// It must exist when the event happens (generated, or added by an
	// earlier api-add); api-add must name a new id instead.
	Token string `yaml:"token"`
	// From: self (default) or other; only for api-* kinds.
	From Origin `yaml:"from"`
	// Granularity of mtime for coarse-mtime: 1s or 2s; only there.
	Granularity time.Duration `yaml:"granularity"`
	// TTL for stale-stat: how long stat answers are cached, > 0; only
	// there.
	TTL time.Duration `yaml:"ttl"`
	// ProbeRate in requests/s of the revocation probe, > 0, default
	// DefaultProbeRate.
	ProbeRate float64 `yaml:"probe_rate"`

	// TokenIndex is the resolved generated-token index, or -1 when Token
	// names an id that is not generated (api-add, or one it added).
	TokenIndex int `yaml:"-"`
	// TokenID is the resolved token id.
	TokenID string `yaml:"-"`
}

// TokenID returns the id of generated token i. The generator and the
// parser agree on it so events can name tokens by index or by id.
func TokenID(i int) string {
	return "bench@pbs!t" + strconv.Itoa(i)
}

// tokenIndex inverts TokenID; ok is false for any other string.
func tokenIndex(id string) (int, bool) {
	rest, ok := strings.CutPrefix(id, "bench@pbs!t")
	if !ok || rest == "" || (len(rest) > 1 && rest[0] == '0') {
		return 0, false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(rest)
	return i, err == nil
}

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

// Param is one matrix coordinate of a variant.
type Param struct {
	Axis  string // "tokens", "concurrency" or "gomaxprocs"
	Value int
}

func (p Param) String() string { return p.Axis + "=" + strconv.Itoa(p.Value) }

// Variant is one concrete point of a scenario's matrix.
type Variant struct {
	// Name is the scenario name plus the matrix coordinates, e.g.
	// "steady/tokens=100" or "concurrency/concurrency=8,gomaxprocs=2";
	// just the scenario name when there is no matrix.
	Name string
	// Base is the scenario's name.
	Base string
	// Params are the matrix coordinates, in axis order tokens,
	// concurrency, gomaxprocs.
	Params []Param
	// Scenario is a deep copy with the coordinates applied, Matrix empty
	// and Name == the variant's Name.
	Scenario *Scenario
}

// Expand returns the cartesian product of the matrix axes (tokens, then
// concurrency, then gomaxprocs; the last axis varies fastest). Without a
// matrix it returns one variant equal to s.
func (s *Scenario) Expand() []Variant {
	type axis struct {
		name string
		vals []int
		set  func(*Scenario, int)
	}
	var axes []axis
	if len(s.Matrix.Tokens) > 0 {
		axes = append(axes, axis{"tokens", s.Matrix.Tokens, func(c *Scenario, v int) { c.Tokens = v }})
	}
	if len(s.Matrix.Concurrency) > 0 {
		axes = append(axes, axis{"concurrency", s.Matrix.Concurrency, func(c *Scenario, v int) { c.Load.Concurrency = v }})
	}
	if len(s.Matrix.GOMAXPROCS) > 0 {
		axes = append(axes, axis{"gomaxprocs", s.Matrix.GOMAXPROCS, func(c *Scenario, v int) { c.Server.GOMAXPROCS = v }})
	}
	out := []Variant{{Name: s.Name, Base: s.Name}}
	for _, a := range axes {
		next := make([]Variant, 0, len(out)*len(a.vals))
		for _, v := range out {
			for _, val := range a.vals {
				ps := append(append([]Param(nil), v.Params...), Param{a.name, val})
				next = append(next, Variant{Base: s.Name, Params: ps})
			}
		}
		out = next
	}
	for i := range out {
		c := s.clone()
		c.Matrix = Matrix{}
		names := make([]string, len(out[i].Params))
		for j, p := range out[i].Params {
			names[j] = p.String()
			for _, a := range axes {
				if a.name == p.Axis {
					a.set(c, p.Value)
				}
			}
		}
		if len(names) > 0 {
			c.Name = s.Name + "/" + strings.Join(names, ",")
		}
		out[i].Name = c.Name
		out[i].Scenario = c
	}
	return out
}

// clone returns a deep copy.
func (s *Scenario) clone() *Scenario {
	c := *s
	c.Load.Stages = append([]Stage(nil), s.Load.Stages...)
	if s.Load.Knee != nil {
		k := *s.Load.Knee
		c.Load.Knee = &k
	}
	c.Verifiers = append([]string(nil), s.Verifiers...)
	c.Matrix = Matrix{
		Tokens:      append([]int(nil), s.Matrix.Tokens...),
		Concurrency: append([]int(nil), s.Matrix.Concurrency...),
		GOMAXPROCS:  append([]int(nil), s.Matrix.GOMAXPROCS...),
	}
	c.Events = append([]Event(nil), s.Events...)
	c.Strategies = append([]string(nil), s.Strategies...)
	if s.Cluster != nil {
		cl := *s.Cluster
		cl.Events = append([]string(nil), s.Cluster.Events...)
		cl.AttrTimeouts = append([]time.Duration(nil), s.Cluster.AttrTimeouts...)
		c.Cluster = &cl
	}
	return &c
}

// Quick returns a copy with short phases for smoke runs: measured window
// at most QuickDuration (stages and event times scaled by the same
// factor), warm-up at most QuickWarmup, one repeat, at most QuickRounds
// rounds, knee steps at most
// QuickKneeStep long and at most QuickKneeSteps of them. Timers that were
// meant to fire inside the run (server TTL, stale-stat TTL shorter than
// warm-up plus window) are scaled too, so the quick run still shows them.
// Each matrix axis keeps only its first and last value.
//
// A cluster scenario keeps one trial of the smallest non-zero
// attr_timeout with observation capped at QuickClusterObserve.
func (s *Scenario) Quick() *Scenario {
	c := s.clone()
	if c.Cluster != nil {
		c.Cluster = c.Cluster.quick()
		c.Load.Duration = c.Cluster.Observe
		return c
	}
	l := &c.Load
	total := l.Warmup + l.Duration
	f := 1.0
	if l.Shape != ShapeKnee && l.Duration > QuickDuration {
		f = float64(QuickDuration) / float64(l.Duration)
	}
	scale := func(d time.Duration) time.Duration {
		n := time.Duration(float64(d) * f)
		if n < 1 && d > 0 {
			n = 1
		}
		return n
	}
	if l.Shape != ShapeKnee {
		if l.Shape == ShapeStages {
			var sum time.Duration
			for i := range l.Stages {
				l.Stages[i].Duration = scale(l.Stages[i].Duration)
				sum += l.Stages[i].Duration
			}
			l.Duration = sum
		} else {
			l.Duration = min(l.Duration, QuickDuration)
		}
		for i := range c.Events {
			e := &c.Events[i]
			e.At = min(scale(e.At), l.Duration-1)
			if e.Kind == EventStaleStat && e.TTL < total {
				e.TTL = scale(e.TTL)
			}
		}
		if c.Server.TTL < total {
			c.Server.TTL = scale(c.Server.TTL)
		}
	}
	l.Warmup = min(l.Warmup, QuickWarmup)
	if l.Shape != ShapeKnee {
		l.Warmup = min(l.Warmup, l.Duration)
	}
	l.Repeats = 1
	l.Rounds = min(l.Rounds, QuickRounds)
	// Sweeps keep their end points: the quick suite still shows the trend
	// (1 vs 64 clients, 1 vs 10,000 tokens) in far fewer runs.
	ends := func(v []int) []int {
		if len(v) <= 2 {
			return v
		}
		return []int{v[0], v[len(v)-1]}
	}
	c.Matrix.Tokens, c.Matrix.Concurrency, c.Matrix.GOMAXPROCS = ends(c.Matrix.Tokens), ends(c.Matrix.Concurrency), ends(c.Matrix.GOMAXPROCS)
	if l.Knee != nil {
		l.Knee.StepDuration = min(l.Knee.StepDuration, QuickKneeStep)
		l.Knee.MaxSteps = min(len(l.Knee.Steps()), QuickKneeSteps)
	}
	return c
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

// String is a short human description for logs.
func (s *Scenario) String() string {
	return fmt.Sprintf("%s (%s, %d tokens, %s)", s.Name, s.Load.Shape, s.Tokens, s.Load.Measured())
}
