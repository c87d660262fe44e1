package analysis

import (
	"fmt"
	"math"
	"slices"

	"github.com/authbench/authbench/internal/results"
)

// Thresholds of the targets the report checks.
const (
	// KneeTarget is the minimum knee of a cached verifier as a fraction of
	// the no-auth control.
	KneeTarget = 0.95
	// UncachedCryptMin is the minimum crypt share of server CPU under the
	// uncached verifier (crypt must dominate, or the benchmark measures
	// something else).
	UncachedCryptMin = 0.8
	// CachedCryptMax is the maximum crypt share under a cached verifier.
	CachedCryptMax = 0.01
)

// HeadlineRow is one verifier of one scenario (its primary config).
type HeadlineRow struct {
	Scenario, Verifier string
	// Knee is the sustained throughput (req/s): median of the repeated
	// searches [min–max].
	Knee Spread
	// KneeFromSearch says Knee comes from knee searches, not the best
	// achieved rate at success ≥ 99 %.
	KneeFromSearch bool
	// KneeCapped: the search hit its maximum rate; the knee is at least Knee.
	KneeCapped bool
	// KneeRatio is Knee.Median / control knee; NaN without a control.
	KneeRatio float64
	// CommonRPS is the highest offered rate every verifier of the scenario
	// ran at; 0 when there is none.
	CommonRPS float64
	// P99 is the p99 latency (µs) at CommonRPS; N == 0 when not measured.
	P99 Spread
	// RefRPS is the offered rate Crypt, CPU and SlowFraction were taken at
	// (CommonRPS, or the verifier's highest rate).
	RefRPS float64
	// CPU is server CPU-seconds per 1000 requests; N == 0 when not measured.
	CPU Spread
	// Crypt is the crypt share of server CPU; N == 0 without samples.
	Crypt Spread
	// CryptInterval is Crypt's location with its interval over units.
	CryptInterval Interval
	// SlowFraction is slow / (fast+slow); N == 0 without counters.
	SlowFraction Spread
	// VsControl and VsBaseline are the ratios to the no-auth control and to
	// uncached, per metric, with intervals (invalid when a side is missing).
	VsControl, VsBaseline map[Metric]Interval
}

// ScenarioSummary is the analysis of one scenario.
type ScenarioSummary struct {
	Name string
	Rows []HeadlineRow
	// Rounds is true when the scenario was measured in interleaved rounds,
	// so ratios are paired by round.
	Rounds bool
	// Noise is the A/A interval (ControlCopyVerifier / ControlVerifier)
	// per metric; invalid when the run had no A/A copy.
	Noise map[Metric]Interval
}

// Row returns the headline row of verifier v.
func (s ScenarioSummary) Row(v string) (HeadlineRow, bool) {
	i := slices.IndexFunc(s.Rows, func(r HeadlineRow) bool { return r.Verifier == v })
	if i < 0 {
		return HeadlineRow{}, false
	}
	return s.Rows[i], true
}

// VersusControl judges verifier v's ratio to the control on metric m
// against the scenario's noise floor.
func (s ScenarioSummary) VersusControl(v string, m Metric) Difference {
	r, _ := s.Row(v)
	return Distinguish(r.VsControl[m], s.Noise[m])
}

// Verdict is a three-valued target result.
type Verdict int

// Verdicts. The zero value is Inconclusive, so a target nobody judged
// never reads as met.
const (
	Inconclusive Verdict = iota
	Met
	Missed
)

func (v Verdict) String() string { return [...]string{"inconclusive", "met", "MISSED"}[v] }

// Target is one checked target.
type Target struct {
	Name               string // what is required, e.g. "knee ≥ 0.95 × no-auth"
	Scenario, Verifier string
	Measured           string // the measured value with its interval
	Verdict            Verdict
	// Reason explains a miss or an inconclusive verdict.
	Reason string
}

// Pass reports whether the target was met.
func (t Target) Pass() bool { return t.Verdict == Met }

// Options tune Summarize.
type Options struct {
	// TargetScenarios restricts the target checks to these scenarios;
	// empty means the scenarios whose runs are marked Target; a file from
	// before that mark falls back to the steady scenarios, then to all.
	TargetScenarios []string
}

// Summary is what the report leads with; compare and the gate reuse it.
type Summary struct {
	Scenarios []ScenarioSummary
	// TargetScenarios are the scenarios the targets were checked in
	// (empty: all of them).
	TargetScenarios []string
	// Headline is every scenario's rows in order.
	Headline []HeadlineRow
	Targets  []Target
	// Short lists runs that fell short of their target rate, except knee
	// steps above their search's knee (they fall short by design).
	Short []results.Run
	// Revocations counts revocation checks; Failed lists the failed ones.
	Revocations int
	Failed      []results.Revocation
}

// Scenario returns the summary of one scenario.
func (s Summary) Scenario(name string) (ScenarioSummary, bool) {
	i := slices.IndexFunc(s.Scenarios, func(x ScenarioSummary) bool { return x.Name == name })
	if i < 0 {
		return ScenarioSummary{}, false
	}
	return s.Scenarios[i], true
}

// Summarize computes the headline, the targets and the warnings of f.
func Summarize(f *results.File, opts Options) Summary {
	var s Summary
	if len(opts.TargetScenarios) == 0 {
		opts.TargetScenarios = targetScenarios(f)
	}
	if len(opts.TargetScenarios) == 0 {
		opts.TargetScenarios = legacyTargets(f)
	}
	s.TargetScenarios = opts.TargetScenarios
	for _, sc := range Scenarios(f) {
		ss := summarizeScenario(sc, ScenarioRuns(f, sc))
		s.Scenarios = append(s.Scenarios, ss)
		s.Headline = append(s.Headline, ss.Rows...)
		if len(opts.TargetScenarios) == 0 || slices.Contains(opts.TargetScenarios, sc) {
			s.Targets = append(s.Targets, targets(ss)...)
		}
	}
	s.Short = shortRuns(f.Runs)
	s.Revocations = len(f.Revocations)
	for _, rv := range f.Revocations {
		if !rv.Pass {
			s.Failed = append(s.Failed, rv)
		}
	}
	return s
}

func summarizeScenario(name string, runs []results.Run) ScenarioSummary {
	ss := ScenarioSummary{Name: name, Noise: map[Metric]Interval{}}
	if len(runs) == 0 {
		return ss
	}
	primary := WithConfig(runs, Primary(runs))
	ss.Rounds = slices.ContainsFunc(primary, func(r results.Run) bool { return r.Round > 0 })
	units := map[string]map[Metric]map[int]float64{}
	vs := Verifiers(primary)
	for _, v := range vs {
		units[v] = map[Metric]map[int]float64{}
		for _, m := range Metrics {
			units[v][m] = unitValues(primary, v, m)
		}
	}
	ratio := func(v, ref string, m Metric) Interval {
		if _, ok := units[ref]; !ok || v == ref {
			return noInterval
		}
		return ratioOf(units[v][m], units[ref][m], ss.Rounds)
	}
	if _, ok := units[results.ControlCopyVerifier]; ok {
		for _, m := range Metrics {
			ss.Noise[m] = ratio(results.ControlCopyVerifier, results.ControlVerifier, m)
		}
	}

	common, hasCommon := CommonRate(primary)
	knees := map[string]KneeStat{}
	for _, k := range Knees(primary) {
		knees[k.Verifier] = k
	}
	ctrl := math.NaN()
	if k, ok := knees[results.ControlVerifier]; ok && k.RPS.Median > 0 {
		ctrl = k.RPS.Median
	}
	profiled := Profiled(primary)
	for _, v := range vs {
		row := HeadlineRow{Scenario: name, Verifier: v, KneeRatio: math.NaN(),
			VsControl: map[Metric]Interval{}, VsBaseline: map[Metric]Interval{}}
		for _, m := range Metrics {
			row.VsControl[m] = ratio(v, results.ControlVerifier, m)
			row.VsBaseline[m] = ratio(v, BaselineOf(v), m)
		}
		if k, ok := knees[v]; ok {
			row.Knee, row.KneeFromSearch, row.KneeCapped = k.RPS, k.FromSearch, k.Capped
			row.KneeRatio = k.RPS.Median / ctrl
		}
		if hasCommon {
			row.CommonRPS = common
			row.P99 = SpreadOf(values(units[v][MetricP99]))
		}
		row.CPU = SpreadOf(values(units[v][MetricCPU]))
		// Shares and counters exist only for profiled windows, never for
		// knee steps, so the reference point is chosen among those.
		if p, ok := RefPoint(profiled, v); ok {
			row.RefRPS = p.OfferedRPS
			sampled := filter(p.Runs, func(r results.Run) bool { return r.CPUShare.Samples > 0 })
			counted := filter(p.Runs, func(r results.Run) bool { return r.VerifierStats.Fast+r.VerifierStats.Slow > 0 })
			row.Crypt = Of(sampled, func(r results.Run) float64 { return r.CPUShare.Crypt })
			row.CryptInterval = Location(values(perUnitMedian(sampled, func(r results.Run) float64 { return r.CPUShare.Crypt })))
			row.SlowFraction = Of(counted, func(r results.Run) float64 { return r.SlowFraction })
		}
		ss.Rows = append(ss.Rows, row)
	}
	return ss
}

// perUnitMedian returns get's median per unit of runs.
func perUnitMedian(runs []results.Run, get func(results.Run) float64) map[int]float64 {
	by := map[int][]float64{}
	for _, r := range runs {
		by[Unit(r)] = append(by[Unit(r)], get(r))
	}
	out := map[int]float64{}
	for u, xs := range by {
		out[u] = Median(xs)
	}
	return out
}

// AtLeast judges "value ≥ threshold" on an interval: met when the whole
// interval is at or above it, missed when wholly below, else inconclusive.
func AtLeast(iv Interval, threshold float64) (Verdict, string) {
	return judge(iv, threshold, func(x float64) bool { return x >= threshold })
}

// AtMost judges "value ≤ threshold" likewise.
func AtMost(iv Interval, threshold float64) (Verdict, string) {
	return judge(iv, threshold, func(x float64) bool { return x <= threshold })
}

func judge(iv Interval, threshold float64, ok func(float64) bool) (Verdict, string) {
	switch {
	case !iv.Valid():
		return Inconclusive, "no data"
	case !iv.HasRange():
		return Inconclusive, "a single round has no interval"
	case ok(iv.Lo) && ok(iv.Hi):
		return Met, ""
	case !ok(iv.Lo) && !ok(iv.Hi):
		return Missed, fmt.Sprintf("the whole interval [%.4g, %.4g] is on the wrong side of %.4g", iv.Lo, iv.Hi, threshold)
	}
	return Inconclusive, fmt.Sprintf("the interval [%.4g, %.4g] straddles %.4g", iv.Lo, iv.Hi, threshold)
}

// targets checks the targets for the headline rows of one scenario. A
// target without data (no control, no CPU samples) is not listed. The
// targets are the token verifiers' (crypt share, knee against the
// control): ticket strategies have no crypt and are judged by the ticket
// tables, so their rows are skipped in whatever scenario they ran.
func targets(ss ScenarioSummary) []Target {
	var out []Target
	ctrlCapped := false
	if r, ok := ss.Row(results.ControlVerifier); ok && r.KneeCapped {
		ctrlCapped = true
	}
	for _, r := range ss.Rows {
		if IsTicket(r.Verifier) {
			continue
		}
		if iv := r.VsControl[MetricKnee]; IsCached(r.Verifier) && iv.Valid() && r.Knee.N > 0 {
			m := fmt.Sprintf("%s (%s vs %s req/s, %s)", FormatRatio(iv), fmtRate(r.Knee.Median), fmtRate(r.Knee.Median/r.KneeRatio), FormatCoverage(iv))
			v, why := AtLeast(iv, KneeTarget)
			if ctrlCapped {
				m += "; the no-auth search hit its cap, so this only bounds the ratio from above"
				if v == Met {
					v, why = Inconclusive, "the control's knee is a lower bound"
				}
			}
			out = append(out, Target{
				Name:     fmt.Sprintf("knee ≥ %.2f × no-auth", KneeTarget),
				Scenario: r.Scenario, Verifier: r.Verifier, Measured: m, Verdict: v, Reason: why,
			})
		}
		if r.Crypt.N == 0 || IsControl(r.Verifier) {
			continue
		}
		iv := r.CryptInterval
		t := Target{Scenario: r.Scenario, Verifier: r.Verifier,
			Measured: fmt.Sprintf("%s at %s req/s", fmtShareInterval(iv), fmtRate(r.RefRPS))}
		if IsCached(r.Verifier) {
			t.Name = fmt.Sprintf("crypt share ≤ %.2f %% (cached)", 100*CachedCryptMax)
			t.Verdict, t.Reason = AtMost(iv, CachedCryptMax)
		} else {
			t.Name = fmt.Sprintf("crypt share ≥ %.1f %% (uncached)", 100*UncachedCryptMin)
			t.Verdict, t.Reason = AtLeast(iv, UncachedCryptMin)
		}
		out = append(out, t)
	}
	return out
}

func fmtShareInterval(iv Interval) string {
	if !iv.HasRange() {
		return fmt.Sprintf("%.2f %% [n/a (1 round)]", 100*iv.Est)
	}
	return fmt.Sprintf("%.2f %% [%.2f–%.2f %%]", 100*iv.Est, 100*iv.Lo, 100*iv.Hi)
}

func fmtRate(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return fmt.Sprintf("%.0f", x)
}

// shortRuns lists runs short of their offered rate. A knee step above the
// knee of its search falls short by design (that is how the knee is found)
// and is left out.
func shortRuns(runs []results.Run) []results.Run {
	type key struct {
		scenario, verifier string
		cfg                Config
		unit               int
	}
	knee := map[key]float64{}
	for _, r := range runs {
		if r.KneeRPS > 0 {
			k := key{r.Scenario, r.Verifier, ConfigOf(r), Unit(r)}
			knee[k] = math.Max(knee[k], r.KneeRPS)
		}
	}
	return filter(runs, func(r results.Run) bool {
		if !r.ShortOfTarget {
			return false
		}
		if r.Phase == results.PhaseKneeStep {
			if k, ok := knee[key{r.Scenario, r.Verifier, ConfigOf(r), Unit(r)}]; ok && r.OfferedRPS > k {
				return false
			}
		}
		return true
	})
}
