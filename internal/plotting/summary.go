package plotting

import (
	"math"
	"sort"

	"github.com/authbench/authbench/internal/results"
)

// NoAuth is the verifier name of the no-auth control endpoint.
const NoAuth = "noauth"

// Uncached is the verifier that re-reads and re-verifies on every request;
// every other registered verifier counts as cached.
const Uncached = "uncached"

// KneeStep is the Phase of the steps of a max-rate search.
const KneeStep = "knee-step"

// MinSuccess is the success ratio a run needs for its achieved rate to count
// as sustained throughput when no knee search summarises the verifier.
const MinSuccess = 0.99

// Spread summarises one measurement over repeats.
type Spread struct {
	Median, Min, Max float64
	N                int // number of values; 0 means no data
}

// SpreadOf returns the median, minimum and maximum of xs, ignoring NaNs.
func SpreadOf(xs []float64) Spread {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Spread{}
	}
	sort.Float64s(v)
	n := len(v)
	med := v[n/2]
	if n%2 == 0 {
		med = (v[n/2-1] + v[n/2]) / 2
	}
	return Spread{Median: med, Min: v[0], Max: v[n-1], N: n}
}

// Of returns the Spread of get over runs.
func Of(runs []results.Run, get func(results.Run) float64) Spread {
	xs := make([]float64, len(runs))
	for i, r := range runs {
		xs[i] = get(r)
	}
	return SpreadOf(xs)
}

// verifierRank orders the well-known verifiers from the control to the most
// aggressive cache; unknown ones sort after them by name.
var verifierRank = map[string]int{NoAuth: 0, Uncached: 1, "generation": 2, "mtime": 3, "ttl": 4}

// SortVerifiers sorts verifier names into report order.
func SortVerifiers(vs []string) {
	sort.SliceStable(vs, func(a, b int) bool { return VerifierLess(vs[a], vs[b]) })
}

// VerifierLess orders verifier names: the control, uncached, the known
// caches from least to most aggressive, then any others by name.
func VerifierLess(a, b string) bool {
	ra, oka := verifierRank[a]
	rb, okb := verifierRank[b]
	switch {
	case oka && okb:
		return ra < rb
	case oka != okb:
		return oka
	}
	return a < b
}

// IsCached reports whether v is a caching verifier (not the control, not uncached).
func IsCached(v string) bool { return v != NoAuth && v != Uncached }

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
	var out []results.Run
	for _, r := range f.Runs {
		if r.Scenario == scenario {
			out = append(out, r)
		}
	}
	return out
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
	var out []results.Run
	for _, r := range runs {
		if r.Verifier == v {
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
	var out []results.Run
	for _, r := range runs {
		if ConfigOf(r) == c {
			out = append(out, r)
		}
	}
	return out
}

// RateKey rounds an offered rate so that repeats of one load point group
// together despite float noise.
func RateKey(rps float64) float64 { return math.Round(rps) }

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
	var plain []results.Run
	for _, r := range vr {
		if r.KneeRPS == 0 {
			plain = append(plain, r)
		}
	}
	if len(plain) > 0 {
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
	RPS      Spread
	// FromSearch is true when the value comes from knee-search summaries
	// (KneeRPS); otherwise it is the highest achieved rate with success
	// of at least MinSuccess.
	FromSearch bool
	// Capped is set when a search reached its maximum rate without a bad
	// step: the real knee is higher.
	Capped bool
}

// KneeOf computes the knee of runs (one verifier, one config): per repeat the
// knee search result, or failing that the best achieved rate at success ≥
// MinSuccess; then the spread over repeats.
func KneeOf(runs []results.Run) (Spread, bool) {
	search := map[int]float64{}
	best := map[int]float64{}
	for _, r := range runs {
		if r.KneeRPS > 0 {
			search[r.Repeat] = math.Max(search[r.Repeat], r.KneeRPS)
		}
		if r.SuccessRatio >= MinSuccess && r.AchievedRPS > 0 {
			best[r.Repeat] = math.Max(best[r.Repeat], r.AchievedRPS)
		}
	}
	src, fromSearch := best, false
	if len(search) > 0 {
		src, fromSearch = search, true
	}
	xs := make([]float64, 0, len(src))
	for _, v := range src {
		xs = append(xs, v)
	}
	return SpreadOf(xs), fromSearch
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
				capped = capped || (r.KneeRPS > 0 && r.KneeCapped)
			}
			out = append(out, KneeStat{Verifier: v, RPS: s, FromSearch: fs, Capped: capped})
		}
	}
	return out
}

// CommonRate returns the highest offered rate (RateKey) at which every
// verifier other than the control ran, within the primary config. If only
// the control ran, its rates count.
func CommonRate(runs []results.Run) (float64, bool) {
	runs = WithConfig(runs, Primary(runs))
	vs := Verifiers(runs)
	var measured []string
	for _, v := range vs {
		if v != NoAuth {
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

// FallbackRate is Fallback / (Fast + Slow), or NaN when the verifier saw no requests.
func FallbackRate(s results.VerifierStats) float64 {
	n := s.Fast + s.Slow
	if n == 0 {
		return math.NaN()
	}
	return float64(s.Fallback) / float64(n)
}
