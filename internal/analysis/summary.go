package analysis

import (
	"math"
	"slices"

	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/internal/targets"
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
	// KneeCapped: the search hit its maximum rate or the generator's
	// ceiling; the knee is at least Knee.
	KneeCapped bool
	// KneeBracket is the search's resolution (KneeStat.Bracket; 0: not
	// recorded).
	KneeBracket float64
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
	// CryptInterval is the crypt share's location with its interval over
	// units: the Hodges–Lehmann estimate of the per-unit medians. It is the
	// report's one crypt-share estimator (targets, tables, headline).
	CryptInterval Interval
	// CryptSamples is the fewest profile samples of a window behind Crypt:
	// one sample stands for 1/CryptSamples of the CPU, the finest share the
	// measurement resolves.
	CryptSamples int64
	// CryptFromKnee: the share comes from the knee searches' pooled
	// profiles (Run.KneeCPUShare) rather than the constant windows at
	// RefRPS.
	CryptFromKnee bool
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

// Options tune Summarize.
type Options struct {
	// TargetScenarios restricts the target checks to these scenarios;
	// empty means the scenarios whose runs are marked Target; a file from
	// before that mark falls back to each entry's scenario list.
	TargetScenarios []string
	// Targets are the targets and sanity checks to judge; the zero value
	// means targets.Default() (gate/thresholds.yaml, the gate's file).
	Targets targets.File
}

// Summary is what the report leads with; compare and the gate reuse it.
type Summary struct {
	Scenarios []ScenarioSummary
	// TargetScenarios are the scenarios the targets were checked in
	// (empty: all of them).
	TargetScenarios []string
	// Headline is every scenario's rows in order.
	Headline []HeadlineRow
	// Targets are the judged entries of kind target, Sanity those of kind
	// sanity (harness checks, never counted as results).
	Targets, Sanity []Target
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
	if len(opts.Targets.Thresholds) == 0 {
		opts.Targets = targets.Default()
	}
	scope := targetSet(f, opts)
	for _, sc := range Scenarios(f) {
		ss := summarizeScenario(sc, ScenarioRuns(f, sc))
		s.Scenarios = append(s.Scenarios, ss)
		s.Headline = append(s.Headline, ss.Rows...)
		for _, t := range judgeScenario(ss, opts.Targets, scope) {
			if t.Sanity {
				s.Sanity = append(s.Sanity, t)
			} else {
				s.Targets = append(s.Targets, t)
			}
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
			row.Knee, row.KneeFromSearch, row.KneeCapped, row.KneeBracket = k.RPS, k.FromSearch, k.Capped, k.Bracket
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
			counted := filter(p.Runs, func(r results.Run) bool { return r.VerifierStats.Fast+r.VerifierStats.Slow > 0 })
			row.SlowFraction = Of(counted, func(r results.Run) float64 { return r.SlowFraction })
			cryptOf(&row, filter(p.Runs, func(r results.Run) bool { return r.CPUShare.Samples > 0 }), func(r results.Run) results.CPUShare { return r.CPUShare })
		}
		// The pooled profile of the knee search's sustained steps holds many
		// more samples than a constant window: when recorded it is the
		// crypt share's source.
		if pooled := filter(ByVerifier(primary, v), func(r results.Run) bool {
			return r.KneeRPS > 0 && r.KneeCPUShare != nil && r.KneeCPUShare.Samples > 0
		}); len(pooled) > 0 {
			row.CryptFromKnee = true
			cryptOf(&row, pooled, func(r results.Run) results.CPUShare { return *r.KneeCPUShare })
		}
		ss.Rows = append(ss.Rows, row)
	}
	return ss
}

// cryptOf sets the row's crypt share from runs: the spread, the
// Hodges–Lehmann location over per-unit medians and the fewest samples.
func cryptOf(row *HeadlineRow, runs []results.Run, share func(results.Run) results.CPUShare) {
	get := func(r results.Run) float64 { return share(r).Crypt }
	row.Crypt = Of(runs, get)
	row.CryptInterval = Location(values(perUnitMedian(runs, get)))
	row.CryptSamples = 0
	for _, r := range runs {
		if n := share(r).Samples; row.CryptSamples == 0 || n < row.CryptSamples {
			row.CryptSamples = n
		}
	}
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
