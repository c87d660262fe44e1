package scenarios

import (
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxRate bounds every request rate (req/s); far beyond what one machine
// can offer, it only catches typos and overflow.
const MaxRate = 1e6

// MaxProbeRate bounds an event's probe rate (req/s).
const MaxProbeRate = 10_000

var reName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// checker applies defaults and validates one scenario.
type checker struct {
	s   *Scenario
	idx *index
	c   *collector
}

func (k *checker) errf(path, format string, args ...any) {
	k.c.add(k.idx.line(path), path, fmt.Sprintf(format, args...))
}

func (k *checker) has(path string) bool { return k.idx.has(path) }

// duration checks a set duration: > 0 (or >= 0 when zeroOK) and at most
// MaxDuration. It returns false when it reported a problem.
func (k *checker) duration(path string, d time.Duration, zeroOK bool) bool {
	switch {
	case d < 0 || d == 0 && !zeroOK:
		if zeroOK {
			k.errf(path, "must be >= 0, got %s", d)
		} else {
			k.errf(path, "must be > 0, got %s", d)
		}
		return false
	case d > MaxDuration:
		k.errf(path, "must be at most %s, got %s", MaxDuration, d)
		return false
	}
	return true
}

// rate checks a rate that must be > 0, finite and at most limit.
func (k *checker) rate(path string, r, limit float64) bool {
	switch {
	case math.IsNaN(r) || math.IsInf(r, 0):
		k.errf(path, "must be a finite number")
	case r <= 0:
		k.errf(path, "must be > 0, got %v", r)
	case r > limit:
		k.errf(path, "must be at most %v, got %v", limit, r)
	default:
		return true
	}
	return false
}

func (k *checker) intRange(path string, v, lo, hi int) bool {
	if v < lo || v > hi {
		k.errf(path, "must be %d..%d, got %d", lo, hi, v)
		return false
	}
	return true
}

func validate(s *Scenario, idx *index, c *collector, known []string) {
	k := &checker{s: s, idx: idx, c: c}
	k.name()
	if k.auth(known) {
		return // a ticket scenario: validated by its own rules
	}
	known = tokenNames(known)
	k.hash()
	k.mix()
	k.target()
	k.matrix()
	k.tokens()
	k.load()
	k.server()
	k.verifiers(known)
	k.events()
}

func (k *checker) name() {
	s := k.s
	if !k.has("name") {
		base := filepath.Base(s.Path)
		s.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	if !reName.MatchString(s.Name) {
		k.errf("name", "%s is not a valid scenario name (1..64 of letters, digits, '.', '_', '-')", quote(s.Name))
	}
}

func (k *checker) hash() {
	h := &k.s.Hash
	if !k.has("hash.scheme") {
		h.Scheme = SchemeSHA256
	}
	switch h.Scheme {
	case SchemeSHA256, SchemeSHA512:
		if h.Cost != 0 {
			k.intRange("hash.cost", h.Cost, 1000, 999_999_999)
		}
	case SchemeYescrypt:
		if h.Cost != 0 {
			k.intRange("hash.cost", h.Cost, 1, 11)
		}
	default:
		k.errf("hash.scheme", "unknown scheme %s (known: sha256, sha512, yescrypt)", quote(string(h.Scheme)))
	}
	if h.Cost < 0 {
		k.errf("hash.cost", "must be >= 0 (0 = the scheme's default), got %d", h.Cost)
	}
}

// weight is one named mix weight.
type weight struct {
	name string
	v    float64
}

// weights checks a mix's weights (finite, >= 0), reporting each bad one
// as group.name, in the order given; false when any was bad.
func (k *checker) weights(group string, ws []weight) bool {
	ok := true
	for _, w := range ws {
		if math.IsNaN(w.v) || math.IsInf(w.v, 0) || w.v < 0 {
			k.errf(group+"."+w.name, "weight must be a finite number >= 0, got %v", w.v)
			ok = false
		}
	}
	return ok
}

func (k *checker) mix() {
	m := &k.s.Mix
	if !k.has("mix") {
		*m = Mix{Valid: 1}
		return
	}
	if k.weights("mix", []weight{{"valid", m.Valid}, {"wrong_secret", m.WrongSecret}, {"unknown", m.Unknown}, {"malformed", m.Malformed}}) &&
		m.Valid+m.WrongSecret+m.Unknown+m.Malformed <= 0 {
		k.errf("mix", "weights must not all be 0")
	}
}

// target: the speed targets are about cached valid secrets, so a target
// scenario must send only valid requests.
func (k *checker) target() {
	m := k.s.Mix
	if k.s.Target && (m.WrongSecret > 0 || m.Unknown > 0 || m.Malformed > 0) {
		k.errf("target", "needs a valid-only mix (wrong_secret, unknown and malformed 0): the speed targets are about cached valid secrets")
	}
}

func (k *checker) matrix() {
	m := k.s.Matrix
	if k.has("matrix") && !k.has("matrix.tokens") && !k.has("matrix.concurrency") && !k.has("matrix.gomaxprocs") {
		k.errf("matrix", "must set at least one of tokens, concurrency, gomaxprocs")
	}
	axis := func(name string, vals []int, lo, hi int) {
		path := "matrix." + name
		if !k.has(path) {
			return
		}
		if len(vals) == 0 || len(vals) > MaxMatrixAxis {
			k.errf(path, "must list 1..%d values, got %d", MaxMatrixAxis, len(vals))
			return
		}
		seen := map[int]bool{}
		for i, v := range vals {
			p := path + "[" + strconv.Itoa(i) + "]"
			if !k.intRange(p, v, lo, hi) {
				continue
			}
			if seen[v] {
				k.errf(p, "duplicate value %d", v)
			}
			seen[v] = true
		}
	}
	axis("tokens", m.Tokens, 1, MaxTokens)
	axis("concurrency", m.Concurrency, 0, MaxConcurrency)
	axis("gomaxprocs", m.GOMAXPROCS, 0, MaxGOMAXPROCS)
	for _, both := range []struct{ scalar, axis string }{
		{"tokens", "tokens"}, {"load.concurrency", "concurrency"}, {"server.gomaxprocs", "gomaxprocs"},
	} {
		if k.has(both.scalar) && k.has("matrix."+both.axis) {
			k.errf(both.scalar, "set both here and in matrix.%s; keep one", both.axis)
		}
	}
}

func (k *checker) tokens() {
	s := k.s
	if !k.has("tokens") {
		s.Tokens = DefaultTokens
		if len(s.Matrix.Tokens) > 0 && k.has("matrix.tokens") {
			s.Tokens = k.minTokens()
		}
		return
	}
	k.intRange("tokens", s.Tokens, 1, MaxTokens)
}

func (k *checker) load() {
	l := &k.s.Load
	if !k.has("load.shape") {
		l.Shape = ShapeConstant
	}
	if !k.has("load.header_form") {
		l.HeaderForm = HeaderPBS
	}
	switch l.HeaderForm {
	case HeaderPBS, HeaderPDM, HeaderPVE:
	default:
		k.errf("load.header_form", "unknown header form %s (known: pbs, pdm, pve)", quote(string(l.HeaderForm)))
	}
	if !k.has("load.repeats") {
		l.Repeats = DefaultRepeats
	} else {
		k.intRange("load.repeats", l.Repeats, 1, MaxRepeats)
	}
	if !k.has("load.rounds") {
		l.Rounds = DefaultRounds
	} else {
		k.intRange("load.rounds", l.Rounds, 1, MaxRounds)
	}
	k.intRange("load.concurrency", l.Concurrency, 0, MaxConcurrency)
	if k.has("load.knee") {
		k.knee()
	}
	if l.Parallel && k.has("load.knee") {
		k.errf("load.parallel", "not with a knee search: overlapping searches would measure each other")
	}
	if k.has("load.cached_rate") && l.Shape != ShapeConstant {
		k.errf("load.cached_rate", "only used with shape constant (shape is %s)", quote(string(l.Shape)))
	}
	if k.has("load.stages") && l.Shape != ShapeStages {
		k.errf("load.stages", "only used with shape stages (shape is %s)", quote(string(l.Shape)))
	}

	measured := true // whether l.Duration is meaningful for the warm-up check
	switch l.Shape {
	case ShapeConstant:
		if math.IsNaN(l.Rate) || math.IsInf(l.Rate, 0) {
			k.errf("load.rate", "must be a finite number")
		} else if l.Rate <= 0 {
			k.errf("load.rate", "must be > 0 unless shape is knee")
		} else if l.Rate > MaxRate {
			k.errf("load.rate", "must be at most %v, got %v", MaxRate, l.Rate)
		}
		if !k.has("load.duration") {
			l.Duration = DefaultDuration
		} else {
			measured = k.duration("load.duration", l.Duration, false)
		}
		if k.has("load.cached_rate") {
			k.rate("load.cached_rate", l.CachedRate, MaxRate)
		}
	case ShapeStages:
		if k.has("load.rate") {
			k.errf("load.rate", "not used with shape stages; each stage has its rate")
		}
		measured = k.stages()
	case ShapeKnee:
		if k.has("load.rate") {
			k.errf("load.rate", "not used with shape knee; the search starts at knee.start")
		}
		if k.has("load.duration") {
			k.errf("load.duration", "not used with shape knee; knee.step_duration sets the steps' length")
		}
		if !k.has("load.knee") {
			k.errf("load.knee", "required for shape knee")
		}
		measured = false
	default:
		k.errf("load.shape", "unknown shape %s (known: constant, stages, knee)", quote(string(l.Shape)))
		measured = false
	}

	if !k.has("load.warmup") {
		l.Warmup = DefaultWarmup
		if measured && l.Warmup > l.Duration {
			l.Warmup = l.Duration // a short window gets a short default warm-up
		}
	} else if k.duration("load.warmup", l.Warmup, true) && measured && l.Warmup > l.Duration {
		k.errf("load.warmup", "warm-up (%s) longer than the measured duration (%s)", l.Warmup, l.Duration)
	}
}

// stages validates a staged load and sets Duration to the stages' sum. It
// returns whether Duration is valid.
func (k *checker) stages() bool {
	l := &k.s.Load
	if len(l.Stages) == 0 {
		k.errf("load.stages", "shape stages needs at least one stage")
		return false
	}
	if len(l.Stages) > 100 {
		k.errf("load.stages", "at most 100 stages, got %d", len(l.Stages))
		return false
	}
	var sum time.Duration
	ok := true
	for i, st := range l.Stages {
		p := "load.stages[" + strconv.Itoa(i) + "]"
		k.rate(p+".rate", st.Rate, MaxRate)
		if !k.duration(p+".duration", st.Duration, false) {
			ok = false
			continue
		}
		sum += st.Duration
	}
	if !ok {
		return false
	}
	if sum > MaxDuration {
		k.errf("load.stages", "stages add up to %s, more than %s", sum, MaxDuration)
		return false
	}
	if k.has("load.duration") && l.Duration != sum {
		k.errf("load.duration", "is %s but the stages add up to %s; leave it out", l.Duration, sum)
		return false
	}
	l.Duration = sum
	return true
}

func (k *checker) knee() {
	kn := k.s.Load.Knee
	if kn == nil { // "knee:" with no value
		k.errf("load.knee", "must set start and max")
		return
	}
	if !k.has("load.knee.step_duration") {
		kn.StepDuration = DefaultKneeStep
	} else {
		k.duration("load.knee.step_duration", kn.StepDuration, false)
	}
	if !k.has("load.knee.p99_bound") {
		kn.P99Bound = DefaultKneeP99Bound
	} else {
		k.duration("load.knee.p99_bound", kn.P99Bound, false)
	}
	factorOK := true
	if !k.has("load.knee.factor") {
		kn.Factor = DefaultKneeFactor
	} else if math.IsNaN(kn.Factor) || kn.Factor <= 1 || kn.Factor > 100 {
		k.errf("load.knee.factor", "must be > 1 and <= 100, got %v", kn.Factor)
		factorOK = false
	}
	if kn.MaxSteps < 0 || kn.MaxSteps > MaxKneeSteps {
		k.errf("load.knee.max_steps", "must be 0..%d (0 = until max), got %d", MaxKneeSteps, kn.MaxSteps)
	}
	if !k.has("load.knee.refine_steps") {
		kn.RefineSteps = DefaultKneeRefineSteps
	} else {
		k.intRange("load.knee.refine_steps", kn.RefineSteps, 1, MaxKneeSteps)
	}
	startOK := k.rate("load.knee.start", kn.Start, MaxRate)
	maxOK := k.rate("load.knee.max", kn.Max, MaxRate)
	if startOK && maxOK && kn.Max <= kn.Start {
		k.errf("load.knee.max", "must be > start (%v), got %v", kn.Start, kn.Max)
		return
	}
	if startOK && maxOK && factorOK {
		steps := Knee{Start: kn.Start, Max: kn.Max, Factor: kn.Factor}.Steps()
		if steps[len(steps)-1] != kn.Max {
			k.errf("load.knee", "more than %d steps from start %v to max %v; raise factor or start", MaxKneeSteps, kn.Start, kn.Max)
		}
	}
}

func (k *checker) server() {
	sv := &k.s.Server
	k.intRange("server.gomaxprocs", sv.GOMAXPROCS, 0, MaxGOMAXPROCS)
	if !k.has("server.processes") {
		sv.Processes = DefaultProcesses
	} else {
		k.intRange("server.processes", sv.Processes, 1, MaxProcesses)
	}
	if !k.has("server.ttl") {
		sv.TTL = DefaultServerTTL
	} else {
		k.duration("server.ttl", sv.TTL, false)
	}
}

func (k *checker) verifiers(known []string) {
	s := k.s
	if !k.has("verifiers") {
		s.Verifiers = append([]string(nil), known...)
		return
	}
	if len(s.Verifiers) == 0 {
		k.errf("verifiers", "must name at least one verifier (leave it out for all)")
	}
	seen := map[string]bool{}
	for i, v := range s.Verifiers {
		p := "verifiers[" + strconv.Itoa(i) + "]"
		switch {
		case !slices.Contains(known, v):
			k.errf(p, "unknown verifier %s (known: %s)", quote(v), strings.Join(known, ", "))
		case seen[v]:
			k.errf(p, "verifier %s listed twice", quote(v))
		}
		seen[v] = true
	}
}

// minTokens is the smallest token count any variant has; an event's token
