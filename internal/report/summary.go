package report

import (
	"fmt"
	"math"
	"slices"

	"github.com/authbench/authbench/internal/plotting"
	"github.com/authbench/authbench/internal/results"
)

// Thresholds from the issue; the report checks the data against them.
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

// HeadlineRow is one verifier of one scenario in the headline table.
type HeadlineRow struct {
	Scenario, Verifier string
	// Knee is the sustained throughput (req/s) over repeats.
	Knee plotting.Spread
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
	P99 plotting.Spread
	// RefRPS is the offered rate Crypt and SlowFraction were taken at
	// (CommonRPS, or the verifier's highest rate).
	RefRPS float64
	// Crypt is the crypt share of server CPU; N == 0 without samples.
	Crypt plotting.Spread
	// SlowFraction is slow / (fast+slow); N == 0 without counters.
	SlowFraction plotting.Spread
}

// Target is one checked target.
type Target struct {
	Name               string // what is required, e.g. "knee ≥ 0.95 × no-auth"
	Scenario, Verifier string
	Measured           string // the measured value, formatted
	Pass               bool
}

// Summary is what the report leads with; the regression gate may reuse it.
type Summary struct {
	Headline []HeadlineRow
	Targets  []Target
	// Short lists runs that fell short of their target rate.
	Short []results.Run
	// Revocations counts revocation checks; Failed lists the failed ones.
	Revocations int
	Failed      []results.Revocation
}

// Summarize computes the headline, the targets and the warnings of f.
func Summarize(f *results.File, opts Options) Summary {
	var s Summary
	for _, sc := range plotting.Scenarios(f) {
		rows := headline(plotting.ScenarioRuns(f, sc))
		s.Headline = append(s.Headline, rows...)
		if len(opts.TargetScenarios) == 0 || slices.Contains(opts.TargetScenarios, sc) {
			s.Targets = append(s.Targets, targets(rows)...)
		}
	}
	for _, r := range f.Runs {
		if r.ShortOfTarget {
			s.Short = append(s.Short, r)
		}
	}
	s.Revocations = len(f.Revocations)
	for _, rv := range f.Revocations {
		if !rv.Pass {
			s.Failed = append(s.Failed, rv)
		}
	}
	return s
}

func headline(runs []results.Run) []HeadlineRow {
	if len(runs) == 0 {
		return nil
	}
	primary := plotting.WithConfig(runs, plotting.Primary(runs))
	common, hasCommon := plotting.CommonRate(primary)
	knees := map[string]plotting.KneeStat{}
	for _, k := range plotting.Knees(primary) {
		knees[k.Verifier] = k
	}
	ctrl := math.NaN()
	if k, ok := knees[plotting.NoAuth]; ok && k.RPS.Median > 0 {
		ctrl = k.RPS.Median
	}
	var rows []HeadlineRow
	for _, v := range plotting.Verifiers(primary) {
		row := HeadlineRow{Scenario: runs[0].Scenario, Verifier: v, KneeRatio: math.NaN()}
		if k, ok := knees[v]; ok {
			row.Knee, row.KneeFromSearch, row.KneeCapped = k.RPS, k.FromSearch, k.Capped
			row.KneeRatio = k.RPS.Median / ctrl
		}
		if hasCommon {
			row.CommonRPS = common
			for _, p := range plotting.LoadPoints(primary, v) {
				if p.OfferedRPS == common {
					row.P99 = plotting.Of(p.Runs, func(r results.Run) float64 { return r.Latency.P99 })
				}
			}
		}
		// Shares and counters exist only for profiled windows, never for
		// knee steps, so the reference point is chosen among those.
		if p, ok := plotting.RefPoint(profiledRuns(primary), v); ok {
			row.RefRPS = p.OfferedRPS
			var sampled, counted []results.Run
			for _, r := range p.Runs {
				if r.CPUShare.Samples > 0 {
					sampled = append(sampled, r)
				}
				if r.VerifierStats.Fast+r.VerifierStats.Slow > 0 {
					counted = append(counted, r)
				}
			}
			row.Crypt = plotting.Of(sampled, func(r results.Run) float64 { return r.CPUShare.Crypt })
			row.SlowFraction = plotting.Of(counted, func(r results.Run) float64 { return r.SlowFraction })
		}
		rows = append(rows, row)
	}
	return rows
}

func profiledRuns(runs []results.Run) []results.Run {
	var out []results.Run
	for _, r := range runs {
		if r.Phase != plotting.KneeStep && r.KneeRPS == 0 {
			out = append(out, r)
		}
	}
	return out
}

// targets checks the targets for the headline rows of one scenario.
// A target without data (no control, no CPU samples) is not listed.
func targets(rows []HeadlineRow) []Target {
	var out []Target
	ctrlCapped := false
	for _, r := range rows {
		if r.Verifier == plotting.NoAuth && r.KneeCapped {
			ctrlCapped = true
		}
	}
	for _, r := range rows {
		if plotting.IsCached(r.Verifier) && !math.IsNaN(r.KneeRatio) && r.Knee.N > 0 {
			m := fmt.Sprintf("%.3f × (%s vs %s req/s)", r.KneeRatio, fmtNum(r.Knee.Median), fmtNum(r.Knee.Median/r.KneeRatio))
			if ctrlCapped {
				m += "; the no-auth search hit its cap, so this only bounds the ratio from above"
			}
			out = append(out, Target{
				Name:     fmt.Sprintf("knee ≥ %.2f × no-auth", KneeTarget),
				Scenario: r.Scenario, Verifier: r.Verifier,
				Measured: m,
				Pass:     r.KneeRatio >= KneeTarget,
			})
		}
		if r.Crypt.N == 0 || r.Verifier == plotting.NoAuth {
			continue
		}
		t := Target{Scenario: r.Scenario, Verifier: r.Verifier,
			Measured: fmt.Sprintf("%s at %s req/s", fmtPct(r.Crypt.Median), fmtNum(r.RefRPS))}
		if r.Verifier == plotting.Uncached {
			t.Name = fmt.Sprintf("crypt share ≥ %s (uncached)", fmtPct(UncachedCryptMin))
			t.Pass = r.Crypt.Median >= UncachedCryptMin
		} else {
			t.Name = fmt.Sprintf("crypt share ≤ %s (cached)", fmtPct(CachedCryptMax))
			t.Pass = r.Crypt.Median <= CachedCryptMax
		}
		out = append(out, t)
	}
	return out
}
