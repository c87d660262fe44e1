package analysis

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/internal/results"
)

// FloodScenario is the scenario whose crypt share the headline shows: 90 %
// wrong secrets, which no verifier may cache.
const FloodScenario = "invalid-flood"

// EventClass groups revocation events by what changed the token file.
type EventClass string

// Event classes, in headline order.
const (
	ClassAPISelf    EventClass = "API, same process"
	ClassAPIOther   EventClass = "API, other process"
	ClassManualEdit EventClass = "manual edit"
	ClassRestore    EventClass = "mtime-preserving restore"
)

// EventClasses lists the classes in headline order.
var EventClasses = []EventClass{ClassAPISelf, ClassAPIOther, ClassManualEdit, ClassRestore}

// IsFileEdit reports whether c changes the file by hand (the trade-off
// chart's x axis).
func (c EventClass) IsFileEdit() bool { return c == ClassManualEdit || c == ClassRestore }

// ClassOf maps a revocation event name ("api-rotate:other:id",
// "manual-edit:id", ...) to its class; api-add is not a revocation.
func ClassOf(event string) (EventClass, bool) {
	kind, rest, _ := strings.Cut(event, ":")
	switch kind {
	case "api-rotate", "api-revoke":
		if strings.HasPrefix(rest, "other:") {
			return ClassAPIOther, true
		}
		return ClassAPISelf, true
	case "manual-edit", "coarse-mtime", "stale-stat":
		return ClassManualEdit, true
	case "manual-restore":
		return ClassRestore, true
	}
	return "", false
}

// Staleness is the worst measured time an old secret kept working after
// the events of one class, next to the declared bound.
type Staleness struct {
	N int // events measured
	// WorstMS is the longest time to reject (ms); Never is set when some
	// event's old secret was never rejected within the probe.
	WorstMS float64
	Never   bool
	// BoundMS is the largest declared bound; Unbounded when any is.
	BoundMS   float64
	Unbounded bool
	Failed    int // events whose check failed
}

// StalenessOf collects the measured staleness per verifier and class.
func StalenessOf(f *results.File) map[string]map[EventClass]Staleness {
	out := map[string]map[EventClass]Staleness{}
	for _, rv := range f.Revocations {
		c, ok := ClassOf(rv.Event)
		if !ok {
			continue
		}
		if out[rv.Verifier] == nil {
			out[rv.Verifier] = map[EventClass]Staleness{}
		}
		s := out[rv.Verifier][c]
		s.N++
		if rv.TimeToRejectMS == nil {
			s.Never = true
		} else {
			s.WorstMS = math.Max(s.WorstMS, *rv.TimeToRejectMS)
		}
		if rv.BoundMS == nil {
			s.Unbounded = true
		} else {
			s.BoundMS = math.Max(s.BoundMS, *rv.BoundMS)
		}
		if !rv.Pass {
			s.Failed++
		}
		out[rv.Verifier][c] = s
	}
	return out
}

// WorstFileEdit returns the worst staleness over the file-edit classes:
// ok is false when none was measured.
func WorstFileEdit(m map[EventClass]Staleness) (ms float64, never, ok bool) {
	for c, s := range m {
		if c.IsFileEdit() && s.N > 0 {
			ok = true
			never = never || s.Never
			ms = math.Max(ms, s.WorstMS)
		}
	}
	return ms, never, ok
}

// HitPath reads Go benchmark output (make bench-go) and returns the
// hit-path ns/op of each verifier (BenchmarkVerify/<name>/hit), over the
// file's repeated lines.
func HitPath(r io.Reader, fileName string) (map[string]Spread, error) {
	rd := benchfmt.NewReader(r, fileName)
	vals := map[string][]float64{}
	for rd.Scan() {
		res, ok := rd.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		base, parts := res.Name.Parts()
		if string(base) != "Verify" || len(parts) < 2 || string(parts[1]) != "/hit" {
			continue
		}
		if ns, ok := nsPerOp(res); ok {
			v := strings.TrimPrefix(string(parts[0]), "/")
			vals[v] = append(vals[v], ns)
		}
	}
	if err := rd.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", fileName, err)
	}
	out := map[string]Spread{}
	for v, xs := range vals {
		out[v] = SpreadOf(xs)
	}
	return out, nil
}

// nsPerOp returns a result's ns/op as written (benchfmt tidies it to
// sec/op; the original value avoids a rounding round trip).
func nsPerOp(res *benchfmt.Result) (float64, bool) {
	for _, v := range res.Values {
		if v.OrigUnit == "ns/op" {
			return v.OrigValue, true
		}
	}
	if sec, ok := res.Value("sec/op"); ok {
		return sec * 1e9, true
	}
	return 0, false
}

// OverviewRow is one verifier in the headline table.
type OverviewRow struct {
	Verifier string
	Family   impl.Family // empty for the controls and unknown names
	// HitNS is the hit-path cost from the microbenchmarks (ns/op); N == 0
	// without a benchmark file.
	HitNS Spread
	// CPU is server CPU-seconds per 1000 requests in the headline scenario.
	CPU Spread
	// Ratios to the control and to uncached in the headline scenario.
	CPUVsControl, CPUVsBaseline, KneeVsControl, KneeVsBaseline Interval
	// CPUDiff and KneeDiff judge the ratios to the control against the
	// A/A noise floor.
	CPUDiff, KneeDiff Difference
	Staleness         map[EventClass]Staleness
	// FloodCrypt is the crypt share of server CPU in FloodScenario.
	FloodCrypt Spread
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
func BuildOverview(f *results.File, sum Summary, hit map[string]Spread) Overview {
	return buildOverview(f, sum, hit, "")
}

// Overviews returns the headline of every group measured in f: the token
// verifiers first, then e.g. the ticket strategies, each in its own table.
func Overviews(f *results.File, sum Summary, hit map[string]Spread) []Overview {
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
func buildOverview(f *results.File, sum Summary, hit map[string]Spread, group string) Overview {
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
		}
		if r, ok := flood.Row(v); ok {
			row.FloodCrypt = r.Crypt
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
