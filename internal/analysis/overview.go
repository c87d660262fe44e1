package analysis

import (
	"slices"
	"strings"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/internal/results"
)

// FloodScenario is the scenario whose crypt share the headline shows: 90 %
// wrong secrets, which no verifier may cache.
const FloodScenario = "invalid-flood"

// OverviewRow is one verifier in the headline table.
type OverviewRow struct {
	Verifier string
	Family   impl.Family // empty for the controls and unknown names
	// HitNS is the hit-path cost from the microbenchmarks (ns/op, see
	// Bench); N == 0 without a benchmark file.
	HitNS Bench
	// CPU is server CPU-seconds per 1000 requests in the headline scenario.
	CPU Spread
	// Ratios to the control and to uncached in the headline scenario.
	CPUVsControl, CPUVsBaseline, KneeVsControl, KneeVsBaseline Interval
	// CPUDiff and KneeDiff judge the ratios to the control against the
	// A/A noise floor.
	CPUDiff, KneeDiff Difference
	// KneeCapped: this verifier's or the control's knee search hit its
	// cap, so KneeVsControl is a bound, not an estimate.
	KneeCapped bool
	Staleness  map[EventClass]Staleness
	// FloodCrypt is the crypt share of server CPU in FloodScenario (the
	// report's one crypt-share estimator, see HeadlineRow.CryptInterval).
	FloodCrypt Interval
}

// Overview is the one-row-per-verifier headline of one group.
type Overview struct {
	// Group is the verifiers' namespace ("" for the token verifiers, see
	// Group).
	Group string
	// Scenario is the variant the cost ratios come from.
	Scenario string
	Rows     []OverviewRow
	Noise    map[Metric]Interval
}

// BuildOverview is the headline of the token verifiers (group "").
func BuildOverview(f *results.File, sum Summary, hit map[string]Bench) Overview {
	return buildOverview(f, sum, hit, "")
}

// Overviews returns the headline of every group measured in f: the token
// verifiers first, then e.g. the ticket strategies, each in its own table.
func Overviews(f *results.File, sum Summary, hit map[string]Bench) []Overview {
	groups := []string{""}
	for _, r := range f.Runs {
		if g := Group(r.Verifier); g != "" && !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	slices.Sort(groups[1:])
	var out []Overview
	for _, g := range groups {
		if ov := buildOverview(f, sum, hit, g); g == "" || len(ov.Rows) > 0 {
			out = append(out, ov)
		}
	}
	return out
}

// buildOverview picks the group's headline scenario (the target scenario
// with the most ratios to the control, then the most intervals; ties go to
// the first; any scenario when no targets were named, and any scenario for
// groups other than the token verifiers) and lays out one row per verifier
// of the group measured anywhere in the run, in report order; the controls
// join the token verifiers' table.
func buildOverview(f *results.File, sum Summary, hit map[string]Bench, group string) Overview {
	ov := Overview{Group: group}
	best := [2]int{-1, -1}
	targets := sum.TargetScenarios
	for _, ss := range sum.Scenarios {
		if group == "" && len(targets) > 0 && !slices.Contains(targets, ss.Name) {
			continue
		}
		if !slices.ContainsFunc(ss.Rows, func(r HeadlineRow) bool { return Group(r.Verifier) == group && !IsControl(r.Verifier) }) {
			continue
		}
		// Most ratios to the control first, then most with an interval.
		var n [2]int
		for _, r := range ss.Rows {
			if Group(r.Verifier) != group {
				continue
			}
			for _, iv := range []Interval{r.VsControl[MetricCPU], r.VsControl[MetricKnee]} {
				if iv.Valid() {
					n[0]++
				}
				if iv.HasRange() {
					n[1]++
				}
			}
		}
		if n[0] > best[0] || n[0] == best[0] && n[1] > best[1] {
			best, ov.Scenario, ov.Noise = n, ss.Name, ss.Noise
		}
	}
	head, _ := sum.Scenario(ov.Scenario)
	flood, _ := sum.Scenario(FloodScenario)
	stale := StalenessOf(f)
	seen := map[string]bool{}
	var vs []string
	add := func(v string) {
		if !seen[v] && (Group(v) == group && (group == "" || !IsControl(v))) {
			seen[v] = true
			vs = append(vs, v)
		}
	}
	for _, r := range f.Runs {
		add(r.Verifier)
	}
	for v := range stale {
		add(v)
	}
	for v := range hit {
		add(v)
	}
	SortVerifiers(vs)
	for _, v := range vs {
		row := OverviewRow{Verifier: v, HitNS: hit[v], Staleness: stale[v]}
		if s, ok := impl.Lookup(v); ok {
			row.Family = s.Family
		}
		if r, ok := head.Row(v); ok {
			row.CPU = r.CPU
			row.CPUVsControl, row.CPUVsBaseline = r.VsControl[MetricCPU], r.VsBaseline[MetricCPU]
			row.KneeVsControl, row.KneeVsBaseline = r.VsControl[MetricKnee], r.VsBaseline[MetricKnee]
			row.CPUDiff, row.KneeDiff = head.VersusControl(v, MetricCPU), head.VersusControl(v, MetricKnee)
			ctrl, _ := head.Row(results.ControlVerifier)
			row.KneeCapped = r.KneeCapped || ctrl.KneeCapped
		}
		if r, ok := flood.Row(v); ok {
			row.FloodCrypt = r.CryptInterval
		}
		ov.Rows = append(ov.Rows, row)
	}
	return ov
}

// legacyTargets selects the target scenarios of a results file written
// before Run.Target existed the way the runner then did: by the name
// prefix "steady" (valid-only steady load).
func legacyTargets(f *results.File) []string {
	var out []string
	for _, sc := range Scenarios(f) {
		if strings.HasPrefix(sc, "steady") {
			out = append(out, sc)
		}
	}
	return out
}

// targetScenarios lists the scenarios whose runs are marked as targets.
func targetScenarios(f *results.File) []string {
	var out []string
	for _, r := range f.Runs {
		if r.Target && !slices.Contains(out, r.Scenario) {
			out = append(out, r.Scenario)
		}
	}
	return out
}
