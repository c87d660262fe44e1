package analysis

import (
	"math"
	"sort"
	"strings"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/internal/results"
)

// MinSuccess is the success ratio a run needs for its achieved rate to count
// as sustained throughput when no knee search summarises the verifier.
const MinSuccess = 0.99

// Spread summarises one measurement over repeats or rounds.
type Spread struct {
	Median, Min, Max float64
	N                int // number of values; 0 means no data
}

// SpreadOf returns the median, minimum and maximum of xs, ignoring NaNs.
func SpreadOf(xs []float64) Spread {
	v := finite(xs)
	if len(v) == 0 {
		return Spread{}
	}
	sort.Float64s(v)
	return Spread{Median: Median(v), Min: v[0], Max: v[len(v)-1], N: len(v)}
}

// Of returns the Spread of get over runs.
func Of(runs []results.Run, get func(results.Run) float64) Spread {
	xs := make([]float64, len(runs))
	for i, r := range runs {
		xs[i] = get(r)
	}
	return SpreadOf(xs)
}

// Group returns the namespace of a result name: "" for the token
// verifiers and the controls, "ticket" for "ticket/mtime". A group is
// reported in its own table and compared against its own baseline.
func Group(v string) string {
	g, _, ok := strings.Cut(v, "/")
	if !ok {
		return ""
	}
	return g
}

// BaselineOf returns the verifier v is compared against: uncached of its
// group (results.BaselineVerifier, or "ticket/uncached" for a ticket
// strategy).
func BaselineOf(v string) string {
	if g := Group(v); g != "" {
		return g + "/" + results.BaselineVerifier
	}
	return results.BaselineVerifier
}

// rank places the control and its A/A copy first, then the registered
// verifiers in registry order (impl.Specs); unknown names sort after them.
func rank(v string) (int, bool) {
	switch v {
	case results.ControlVerifier:
		return 0, true
	case results.ControlCopyVerifier:
		return 1, true
	}
	for i, s := range impl.Specs() {
		if s.Name == v {
			return 2 + i, true
		}
	}
	return 0, false
}

// SortVerifiers sorts verifier names into report order.
func SortVerifiers(vs []string) {
	sort.SliceStable(vs, func(a, b int) bool { return VerifierLess(vs[a], vs[b]) })
}

// VerifierLess orders verifier names: the control, its copy, the registry
// in its order, then any others by name.
func VerifierLess(a, b string) bool {
	// Groups after the token verifiers, each with its baseline first.
	if ga, gb := Group(a), Group(b); ga != gb {
		return ga < gb
	} else if ga != "" {
		if ba := a == BaselineOf(a); ba != (b == BaselineOf(b)) {
			return ba
		}
		if IsTicket(a) {
			return ticketLess(a, b)
		}
		return a < b
	}
	ra, oka := rank(a)
	rb, okb := rank(b)
	switch {
	case oka && okb:
		return ra < rb
	case oka != okb:
		return oka
	}
	return a < b
}

// IsControl reports whether v is the no-auth control or its A/A copy.
func IsControl(v string) bool {
	return v == results.ControlVerifier || v == results.ControlCopyVerifier
}

// IsCached reports whether v caches verified secrets: the registry says so
// for registered verifiers; the controls are not; any other name (a
// ticket strategy, or one an old results file knew) counts as cached
// unless it is its group's baseline.
func IsCached(v string) bool {
	if IsControl(v) {
		return false
	}
	if s, ok := impl.Lookup(v); ok {
		return s.Cached
	}
	return v != BaselineOf(v)
}

// Scenarios lists the scenarios of f in order of first appearance (runs, then revocations).
func Scenarios(f *results.File) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, r := range f.Runs {
		add(r.Scenario)
	}
	for _, r := range f.Revocations {
		add(r.Scenario)
	}
	return out
}

// ScenarioRuns returns the runs of one scenario.
func ScenarioRuns(f *results.File, scenario string) []results.Run {
	return filter(f.Runs, func(r results.Run) bool { return r.Scenario == scenario })
}

// Verifiers lists the verifiers measured in runs, in report order.
func Verifiers(runs []results.Run) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range runs {
		if !seen[r.Verifier] {
			seen[r.Verifier] = true
			out = append(out, r.Verifier)
		}
	}
	SortVerifiers(out)
	return out
}

// ByVerifier keeps the runs of one verifier.
func ByVerifier(runs []results.Run, v string) []results.Run {
	return filter(runs, func(r results.Run) bool { return r.Verifier == v })
}

func filter(runs []results.Run, keep func(results.Run) bool) []results.Run {
	var out []results.Run
	for _, r := range runs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// Config is the part of a run's setup, other than verifier and rate, that
// changes what is measured; runs with different configs are never pooled.
type Config struct {
	Tokens, Concurrency, Processes int
	TLS                            bool
}

// ConfigOf returns the config of r.
func ConfigOf(r results.Run) Config {
	return Config{Tokens: r.Tokens, Concurrency: r.Concurrency, Processes: r.Processes, TLS: r.TLS}
}

// Primary returns the config most runs share (ties: fewest tokens, then
// lowest concurrency), so that a scenario sweeping e.g. token counts still
// gets one comparable latency curve.
func Primary(runs []results.Run) Config {
	count := map[Config]int{}
	for _, r := range runs {
		count[ConfigOf(r)]++
	}
	var best Config
	bestN := -1
	for c, n := range count {
		if n > bestN || (n == bestN && lessConfig(c, best)) {
			best, bestN = c, n
		}
	}
	return best
}

func lessConfig(a, b Config) bool {
	if a.Tokens != b.Tokens {
		return a.Tokens < b.Tokens
	}
	if a.Concurrency != b.Concurrency {
		return a.Concurrency < b.Concurrency
	}
	if a.Processes != b.Processes {
		return a.Processes < b.Processes
	}
	return !a.TLS && b.TLS
}

// WithConfig keeps the runs of config c.
func WithConfig(runs []results.Run, c Config) []results.Run {
	return filter(runs, func(r results.Run) bool { return ConfigOf(r) == c })
}

// RateKey rounds an offered rate so that repeats of one load point group
// together despite float noise.
func RateKey(rps float64) float64 { return math.Round(rps) }

// Unit is the independent measurement a run belongs to: its interleaved
// round when the runner recorded one, else its repeat (older files).
func Unit(r results.Run) int {
	if r.Round > 0 {
		return r.Round
	}
	return r.Repeat
}

// HasRounds reports whether any run of f was measured in interleaved rounds.
func HasRounds(f *results.File) bool {
	for _, r := range f.Runs {
		if r.Round > 0 {
			return true
		}
	}
	return false
}

// LoadPoint is one offered rate of one verifier, pooled over repeats.
type LoadPoint struct {
	Verifier   string
	OfferedRPS float64
	Runs       []results.Run
}

// LoadPoints groups the runs of one verifier by offered rate, ascending.
// Knee summary runs are left out when other runs exist, as they repeat a
// step of the search.
func LoadPoints(runs []results.Run, verifier string) []LoadPoint {
	vr := ByVerifier(runs, verifier)
	if plain := filter(vr, func(r results.Run) bool { return r.KneeRPS == 0 }); len(plain) > 0 {
		vr = plain
	}
	idx := map[float64]int{}
	var out []LoadPoint
	for _, r := range vr {
		k := RateKey(r.OfferedRPS)
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, LoadPoint{Verifier: verifier, OfferedRPS: k})
		}
		out[i].Runs = append(out[i].Runs, r)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].OfferedRPS < out[b].OfferedRPS })
	return out
}

// KneeStat is the sustained throughput of one verifier.
type KneeStat struct {
	Verifier string
	// RPS is the median over repeated searches (rounds or repeats) with
	// their min–max.
	RPS Spread
	// FromSearch is true when the value comes from knee-search summaries
	// (KneeRPS); otherwise it is the highest achieved rate with success
	// of at least MinSuccess.
	FromSearch bool
	// Capped is set when a search reached its maximum rate without a bad
	// step, or the load generator's ceiling (Run.KneeCappedBy): the real
	// knee is higher.
	Capped bool
	// Bracket is the widest search bracket over the units, first failed
	// rate / last sustained − 1 (the search's resolution); 0 when the
	// results do not record it.
	Bracket float64
}

// kneeUnits returns the knee of each unit (round or repeat) of runs (one
// verifier, one config): the knee search result, or failing that the best
// achieved rate at success ≥ MinSuccess.
func kneeUnits(runs []results.Run) (map[int]float64, bool) {
	search := map[int]float64{}
	best := map[int]float64{}
	for _, r := range runs {
		u := Unit(r)
		if r.KneeRPS > 0 {
			search[u] = math.Max(search[u], r.KneeRPS)
		}
		if r.SuccessRatio >= MinSuccess && r.AchievedRPS > 0 {
			best[u] = math.Max(best[u], r.AchievedRPS)
		}
	}
	if len(search) > 0 {
		return search, true
	}
	return best, false
}

// KneeOf computes the knee of runs (one verifier, one config): per unit the
// knee search result, or failing that the best achieved rate at success ≥
// MinSuccess; then the spread over units.
func KneeOf(runs []results.Run) (Spread, bool) {
	units, fromSearch := kneeUnits(runs)
	return SpreadOf(values(units)), fromSearch
}

func values(m map[int]float64) []float64 {
	xs := make([]float64, 0, len(m))
	for _, v := range m {
		xs = append(xs, v)
	}
	return xs
}

// Knees returns the knee of every verifier in runs (primary config), in
// report order; verifiers with no sustained rate are omitted.
func Knees(runs []results.Run) []KneeStat {
	runs = WithConfig(runs, Primary(runs))
	var out []KneeStat
	for _, v := range Verifiers(runs) {
		vr := ByVerifier(runs, v)
		s, fs := KneeOf(vr)
		if s.N > 0 {
			capped := false
			for _, r := range vr {
				capped = capped || (r.KneeRPS > 0 && (r.KneeCapped || r.KneeCappedBy != ""))
			}
			out = append(out, KneeStat{Verifier: v, RPS: s, FromSearch: fs, Capped: capped, Bracket: bracket(vr)})
		}
	}
	return out
}

// CommonRate returns the highest offered rate (RateKey) at which every
// verifier other than the controls ran, within the primary config. If only
// the controls ran, their rates count.
func CommonRate(runs []results.Run) (float64, bool) {
	runs = WithConfig(runs, Primary(runs))
	vs := Verifiers(runs)
	var measured []string
	for _, v := range vs {
		if !IsControl(v) {
			measured = append(measured, v)
		}
	}
	if len(measured) == 0 {
		measured = vs
	}
	var common map[float64]bool
	for _, v := range measured {
		rates := map[float64]bool{}
		for _, p := range LoadPoints(runs, v) {
			if common == nil || common[p.OfferedRPS] {
				rates[p.OfferedRPS] = true
			}
		}
		common = rates
	}
	best, ok := 0.0, false
	for r := range common {
		if !ok || r > best {
			best, ok = r, true
		}
	}
	return best, ok
}

// RefPoint returns the load point of verifier v used for per-verifier bars
// and the headline: the common rate when it has one, else its highest rate.
func RefPoint(runs []results.Run, v string) (LoadPoint, bool) {
	runs = WithConfig(runs, Primary(runs))
	pts := LoadPoints(runs, v)
	if len(pts) == 0 {
		return LoadPoint{}, false
	}
	if rate, ok := CommonRate(runs); ok {
		for _, p := range pts {
			if p.OfferedRPS == rate {
				return p, true
			}
		}
	}
	return pts[len(pts)-1], true
}

// Profiled keeps the runs that had a profiled window of their own: knee
// steps and knee summaries carry no shares or counters.
func Profiled(runs []results.Run) []results.Run {
	return filter(runs, func(r results.Run) bool { return r.Phase != results.PhaseKneeStep && r.KneeRPS == 0 })
}

// FallbackRate is Fallback / (Fast + Slow), or NaN when the verifier saw no requests.
func FallbackRate(s results.VerifierStats) float64 {
	n := s.Fast + s.Slow
	if n == 0 {
		return math.NaN()
	}
	return float64(s.Fallback) / float64(n)
}

// bracket is the widest knee-search bracket of runs (see KneeStat.Bracket).
func bracket(runs []results.Run) float64 {
	w := 0.0
	for _, r := range runs {
		if r.KneeRPS > 0 && r.KneeFirstFailedRPS > 0 {
			w = math.Max(w, r.KneeFirstFailedRPS/r.KneeRPS-1)
		}
	}
	return w
}
