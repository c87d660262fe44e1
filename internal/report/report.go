// Package report renders a run's results.json as report.md (for GitHub) and
// index.html (self-contained: inline CSS, images embedded as data: URIs).
//
// The report answers the question a reader brings first: one headline row
// per verifier (hit-path cost, server CPU per request and throughput as
// ratios to the no-auth control and to uncached with their intervals, the
// measured staleness per event class next to the declared bound, the
// invalid-flood crypt share) and the trade-off chart. Interruptions, failed
// revocation checks and missed or inconclusive targets are listed above it
// with their reasons; passes are collapsed. Each scenario follows in a
// collapsible section headed by its question. Every file the report links
// is one results.json names; nothing is rebuilt from names. The numbers
// come from internal/analysis.
package report

import (
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/plotting"
	"github.com/authbench/authbench/internal/results"
)

// File names written into the report directory.
const (
	MarkdownFile = "report.md"
	HTMLFile     = "index.html"
)

// HeadlineID is the HTML id of the headline table (the browser test checks
// it is inside the first screen).
const HeadlineID = "headline"

// TradeOffClass is the HTML class of the trade-off chart's image (the
// browser test checks it is inside the first screen too).
const TradeOffClass = "tradeoff"

// DefaultMaxEmbedBytes caps the size of one flame graph embedded in
// index.html; DefaultEmbedBudget caps all of them together, so that the
// page of a full run stays well under 3 MB (TestFullRunSize: a full-size
// run's plots and tables take about 1.8 MB, so 1 MiB of flame graphs left
// too little headroom). Larger ones are linked.
const (
	DefaultMaxEmbedBytes = 256 << 10
	DefaultEmbedBudget   = 512 << 10
)

// Options tune Write. The zero value is ready to use.
type Options struct {
	// PlotsDir is the directory, relative to the report dir, for the plots
	// (results.DirPlots when empty).
	PlotsDir string
	// NoPlots skips drawing plots.
	NoPlots bool
	// MaxEmbedBytes caps flame graphs embedded in index.html; larger ones
	// are linked. 0 means DefaultMaxEmbedBytes, negative never embeds.
	MaxEmbedBytes int64
	// TargetScenarios restricts the target checks to these scenarios
	// (e.g. the steady-state one); empty uses the runs' Target marks.
	TargetScenarios []string
}

// Write renders f into dir/report.md and dir/index.html, drawing the plots
// into dir/<PlotsDir> first. dir is the run's report directory; paths inside
// f are relative to it.
func Write(dir string, f *results.File, opts Options) error {
	if opts.PlotsDir == "" {
		opts.PlotsDir = results.DirPlots
	}
	if opts.MaxEmbedBytes == 0 {
		opts.MaxEmbedBytes = DefaultMaxEmbedBytes
	}
	if !filepath.IsLocal(opts.PlotsDir) {
		return fmt.Errorf("report: plots dir %q is not inside the report dir", opts.PlotsDir)
	}
	sum := analysis.Summarize(f, analysis.Options{TargetScenarios: opts.TargetScenarios})
	hit, err := hitPath(dir)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	ovs := analysis.Overviews(f, sum, hit)
	plots := map[string][]string{}
	var tradeoff []string
	if !opts.NoPlots {
		plotDir := filepath.Join(dir, opts.PlotsDir)
		if plots, err = plotting.All(plotDir, f); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		if tradeoff, err = plotting.TradeOff(plotDir, ovs[0]); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	d := build(dir, f, sum, ovs, opts, plots, tradeoff)
	if err := os.WriteFile(filepath.Join(dir, MarkdownFile), d.markdown(), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	html, err := d.html(dir, opts.MaxEmbedBytes, DefaultEmbedBudget)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, HTMLFile), html, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// hitPath reads the verifier microbenchmarks of the run dir when present.
func hitPath(dir string) (map[string]analysis.Spread, error) {
	for _, name := range []string{results.MicrobenchFile, results.BenchFile} {
		fh, err := os.Open(filepath.Join(dir, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		hit, err := analysis.HitPath(fh, name)
		fh.Close()
		if err != nil {
			return nil, err
		}
		if len(hit) > 0 {
			return hit, nil
		}
	}
	return nil, nil
}

func build(dir string, f *results.File, sum analysis.Summary, ovs []analysis.Overview, opts Options, plots map[string][]string, tradeoff []string) *document {
	d := &document{Title: "authbench report — " + f.RunID}

	// What must not be missed goes first.
	if f.Interrupted {
		d.callout("fail", cell{{Text: "⚠️ Interrupted run: ", Strong: true, Class: "fail"},
			{Text: "the suite was stopped before it finished; the results below are partial."}})
	}
	if len(sum.Failed) > 0 {
		d.callout("fail", cell{{Text: fmt.Sprintf("❌ %d of %d revocation checks FAILED", len(sum.Failed), sum.Revocations), Strong: true, Class: "fail"},
			{Text: " — see the security tables."}})
	}
	openTargets(d, sum.Targets)

	headlineSection(d, ovs[0], opts.PlotsDir, tradeoff)
	for _, ov := range ovs[1:] {
		d.h(3, "Headline: "+ov.Group+" strategies")
		overviewTable(d, ov, "")
		d.pClass("note", txt(fmt.Sprintf("Costs and ratios from %s; ratios to uncached are to %s.", orDash(ov.Scenario), ov.Group+"/"+results.BaselineVerifier)))
	}
	envSection(d, f)
	targetSection(d, sum)
	if len(f.Notes) > 0 {
		d.h(2, "Notes")
		var items []cell
		for _, n := range f.Notes {
			items = append(items, txt(n))
		}
		d.list(items)
	}
	d.h(2, "Scenarios")
	for _, ss := range sum.Scenarios {
		scenarioSection(d, dir, f, ss, opts.PlotsDir, plots[ss.Name])
	}
	ticketSections(d, f, opts.PlotsDir, plots)
	return d
}

// openTargets lists missed and inconclusive targets with their reasons at
// the top.
func openTargets(d *document, ts []analysis.Target) {
	var missed, open []analysis.Target
	for _, t := range ts {
		switch t.Verdict {
		case analysis.Missed:
			missed = append(missed, t)
		case analysis.Inconclusive:
			open = append(open, t)
		}
	}
	if len(missed) == 0 && len(open) == 0 {
		return
	}
	class := "warn"
	if len(missed) > 0 {
		class = "fail"
	}
	head := fmt.Sprintf("%d of %d targets inconclusive", len(open), len(ts))
	if len(missed) > 0 {
		head = fmt.Sprintf("%d of %d targets MISSED, %d inconclusive", len(missed), len(ts), len(open))
	}
	d.callout(class, cell{{Text: head, Strong: true, Class: class},
		{Text: " — missed: the whole interval is on the wrong side of the target; inconclusive: the interval straddles it."}})
	item := func(t analysis.Target) cell {
		c := cell{verdictSpan(t.Verdict), {Text: fmt.Sprintf(" %s — %s / %s: %s", t.Name, t.Scenario, t.Verifier, t.Measured)}}
		if t.Verdict != analysis.Missed { // a miss's reason is its interval, already shown
			c = append(c, span{Text: reasonSuffix(t.Reason)})
		}
		return c
	}
	// Short lists stay open; longer ones are collapsed so the headline
	// table and the trade-off chart stay inside the first screen (the
	// browser check asserts it).
	targetList(d, "missed targets", missed, maxMissedListed, item)
	targetList(d, "inconclusive targets", open, maxOpenListed, item)
}

// targetList lists ts, inside a collapsed <details> when there are more
// than limit of them.
func targetList(d *document, label string, ts []analysis.Target, limit int, item func(analysis.Target) cell) {
	if len(ts) == 0 {
		return
	}
	items := make([]cell, len(ts))
	for i, t := range ts {
		items[i] = item(t)
	}
	if len(items) <= limit {
		d.listClass("compact", items)
		return
	}
	d.details(fmt.Sprintf("%d %s", len(items), label))
	d.listClass("compact", items)
	d.endDetails()
}

// maxOpenListed and maxMissedListed are how many inconclusive and missed
// targets are listed uncollapsed above the headline.
const (
	maxOpenListed   = 3
	maxMissedListed = 2
)

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	return " (" + r + ")"
}

func verdictSpan(v analysis.Verdict) span {
	switch v {
	case analysis.Met:
		return span{Text: "✅ met", Class: "pass"}
	case analysis.Missed:
		return span{Text: "❌ MISSED", Strong: true, Class: "fail"}
	}
	return span{Text: "❔ inconclusive", Class: "warn"}
}

func headlineSection(d *document, ov analysis.Overview, plotsDir string, tradeoff []string) {
	d.h(2, "Headline")
	if len(ov.Rows) == 0 {
		d.p(txt("No load runs were recorded."))
		return
	}
	overviewTable(d, ov, HeadlineID)
	for _, name := range tradeoff {
		d.imageClass(plotsDir, name, "trade-off: staleness of file edits against CPU per request", TradeOffClass)
	}
	noise := "no A/A copy of the control was measured, so a ratio counts as different when its interval excludes 1"
	if x, ok := analysis.NoiseWidth(ov.Noise[analysis.MetricCPU]); ok {
		noise = fmt.Sprintf("A/A noise floor (the control against its copy in the same rounds): CPU ± %.1f %%", 100*x)
		if y, ok := analysis.NoiseWidth(ov.Noise[analysis.MetricKnee]); ok {
			noise += fmt.Sprintf(", throughput ± %.1f %%", 100*y)
		}
	}
	d.pClass("note", txt(fmt.Sprintf("Costs and ratios from %s: Hodges–Lehmann estimates [interval] over rounds (see the scenario for coverage); "+
		"Hit path: microbenchmark ns/op, median ± largest deviation. ≈ indistinguishable from the no-auth control, ↑/↓ beyond the noise floor; %s; [n/a]: a single round, no interval. req/s: sustained throughput (knee). "+
		"Staleness: worst measured time an old secret kept working / declared bound (0: the next request sees the change; ∞: unbounded by design). "+
		"Flood crypt: crypt share of server CPU under %s. Chart: each verifier at its worst file-edit staleness and CPU per request; dashed: the Pareto front.",
		orDash(ov.Scenario), noise, analysis.FloodScenario)))
}

// overviewTable is one group's one-row-per-verifier table.
func overviewTable(d *document, ov analysis.Overview, id string) {
	head := []string{"verifier", "hit path", "CPU/req", "CPU × no-auth", "CPU × uncached", "req/s × no-auth", "req/s × uncached"}
	for _, c := range analysis.EventClasses {
		head = append(head, classHeads[c])
	}
	head = append(head, "flood crypt")
	var rows []cell2
	for _, r := range ov.Rows {
		none := analysis.Difference{Kind: -1}
		row := cell2{cell{{Text: r.Verifier, Strong: true}}, txt(fmtPlusMinus(r.HitNS, fmtNS)), txt(fmtMedian(r.CPU, fmtCPU)),
			ratioCell(r.CPUVsControl, r.CPUDiff, r.Verifier), ratioCell(baselineRatio(r.CPUVsBaseline, r.Verifier), none, r.Verifier),
			ratioCell(r.KneeVsControl, r.KneeDiff, r.Verifier), ratioCell(baselineRatio(r.KneeVsBaseline, r.Verifier), none, r.Verifier)}
		for _, c := range analysis.EventClasses {
			row = append(row, stalenessCell(r.Staleness[c]))
		}
		row = append(row, txt(fmtMedian(r.FloodCrypt, fmtPct)))
		rows = append(rows, row)
	}
	d.tableID(id, head, rows)
}

// classHeads are the headline's short column names per event class.
var classHeads = map[analysis.EventClass]string{
	analysis.ClassAPISelf:    "API, same proc",
	analysis.ClassAPIOther:   "API, other proc",
	analysis.ClassManualEdit: "manual edit",
	analysis.ClassRestore:    "cp -p restore",
}

// baselineRatio drops the controls' ratios to uncached: the controls do
// not authenticate, so the ratio says nothing about a verifier.
func baselineRatio(iv analysis.Interval, v string) analysis.Interval {
	if analysis.IsControl(v) {
		return analysis.Interval{}
	}
	return iv
}

// ratioCell shows a ratio with its interval and, against the control, the
// noise-floor judgement; Kind −1 means no judgement applies.
func ratioCell(iv analysis.Interval, diff analysis.Difference, v string) cell {
	return ratioCellWith(iv, diff, v, true)
}

// ratioCellWith spells the judgement out ("indistinguishable (± 3.1 %)")
// unless short, where the headline's ≈ ↑ ↓ and its legend stand for it.
func ratioCellWith(iv analysis.Interval, diff analysis.Difference, v string, short bool) cell {
	if !iv.Valid() || v == results.ControlVerifier {
		return txt("—")
	}
	c := cell{{Text: analysis.FormatRatio(iv)}}
	if short && !iv.HasRange() {
		c = cell{{Text: strings.Replace(analysis.FormatRatio(iv), "[n/a (1 round)]", "[n/a]", 1)}}
	}
	if !short && diff.Kind >= analysis.Indistinguishable {
		cls := ""
		if diff.Kind == analysis.Indistinguishable {
			cls = "pass"
		}
		return append(c, span{Text: " " + diff.String(), Class: cls})
	}
	switch diff.Kind {
	case analysis.Indistinguishable:
		c = append(c, span{Text: " ≈", Class: "pass"})
	case analysis.Higher:
		c = append(c, span{Text: " ↑"})
	case analysis.Lower:
		c = append(c, span{Text: " ↓"})
	}
	return c
}

// stalenessCell shows worst measured / declared ("∞": unbounded by design).
func stalenessCell(s analysis.Staleness) cell {
	if s.N == 0 {
		return txt("—")
	}
	measured := fmtMS(s.WorstMS)
	if s.Never {
		measured = "never"
	}
	bound := "∞"
	switch {
	case s.Unbounded:
	case s.BoundMS == 0:
		bound = "0" // the next request after the change sees it
	default:
		bound = fmtMS(s.BoundMS)
	}
	c := cell{{Text: measured + " / " + bound}}
	if s.Failed > 0 {
		c = append(c, span{Text: fmt.Sprintf(" ❌ %d failed", s.Failed), Strong: true, Class: "fail"})
	}
	return c
}

func envSection(d *document, f *results.File) {
	e := f.Env
	d.h(2, "Environment")
	rows := []cell2{
		{txt("Go"), txt(strings.TrimSpace(e.GoVersion + " " + osArch(e)))},
		{txt("CPU"), txt(orDash(e.CPUModel))},
		{txt("Cores / GOMAXPROCS"), txt(fmt.Sprintf("%d / %d", e.NumCPU, e.GOMAXPROCS))},
		{txt("Commit"), cell{{Text: orDash(e.Commit), Code: e.Commit != ""}}},
		{txt("Hash scheme / cost"), txt(fmt.Sprintf("%s / %d", orDash(e.HashScheme), e.HashCost))},
		{txt("Date"), txt(orDash(e.Date))},
		{txt("Load setup"), txt(orDash(e.LoadSetup))},
	}
	if e.Suite != "" {
		rows = append(rows, cell2{txt("Suite"), txt(e.Suite)})
	}
	if e.Hostname != "" {
		rows = append(rows, cell2{txt("Host"), txt(e.Hostname)})
	}
	if len(f.Shards) > 0 {
		rows = append(rows, cell2{txt("Merged shards"), txt(strings.Join(f.Shards, ", "))})
	}
	d.table([]string{"", "value"}, rows)
}

func osArch(e results.Env) string {
	if e.GOOS == "" && e.GOARCH == "" {
		return ""
	}
	return "(" + e.GOOS + "/" + e.GOARCH + ")"
}

func targetSection(d *document, sum analysis.Summary) {
	d.h(2, "Targets")
	if len(sum.Targets) == 0 {
		d.p(txt("No target could be checked: the runs lack a no-auth control knee and CPU samples."))
	} else {
		var met []cell2
		for _, t := range sum.Targets {
			if t.Verdict == analysis.Met {
				met = append(met, cell2{txt(t.Name), txt(t.Scenario), txt(t.Verifier), txt(t.Measured), cell{verdictSpan(t.Verdict)}})
			}
		}
		open := len(sum.Targets) - len(met)
		if open == 0 {
			d.p(cell{{Text: fmt.Sprintf("✅ all %d targets met", len(met)), Class: "pass"}})
		} else {
			d.p(txt(fmt.Sprintf("%d of %d targets met; the others are listed at the top with their reasons.", len(met), len(sum.Targets))))
		}
		if len(met) > 0 {
			d.details(fmt.Sprintf("%d targets met", len(met)))
			d.table([]string{"target", "scenario", "verifier", "measured", "result"}, met)
			d.endDetails()
		}
	}

	switch {
	case sum.Revocations == 0:
		d.p(txt("Revocation checks: none were run."))
	case len(sum.Failed) == 0:
		d.p(cell{{Text: "Revocation checks: "}, {Text: fmt.Sprintf("✅ all %d passed", sum.Revocations), Class: "pass"}})
	default:
		d.p(cell{{Text: "Revocation checks: "}, {Text: fmt.Sprintf("❌ FAIL — %d of %d failed:", len(sum.Failed), sum.Revocations), Strong: true, Class: "fail"}})
		var items []cell
		for _, rv := range sum.Failed {
			items = append(items, cell{{Text: "❌ FAIL", Strong: true, Class: "fail"}, {Text: fmt.Sprintf(" %s / %s / %s: %s", rv.Scenario, rv.Verifier, rv.Event, revocationSummary(rv))}})
		}
		d.list(items)
	}

	d.h(3, "Runs short of their target rate")
	if len(sum.Short) == 0 {
		d.p(txt("None: every run achieved at least 99 % of its offered rate (knee-search steps above the knee fall short by design and are not counted)."))
		return
	}
	d.callout("warn", cell{{Text: "⚠️ These runs did not reach their offered rate; their latencies describe an overloaded generator or server, not the offered load.", Class: "warn"}})
	var items []cell
	for _, r := range sum.Short {
		items = append(items, cell{{Text: "⚠️ ", Class: "warn"}, {Text: fmt.Sprintf("%s / %s%s, %s: offered %s req/s, achieved %s req/s (%s)",
			r.Scenario, r.Verifier, phaseSuffix(r), unitName(r), fmtNum(r.OfferedRPS), fmtNum(r.AchievedRPS), fmtPct(ratio(r.AchievedRPS, r.OfferedRPS)))}})
	}
	d.list(items)
}

func unitName(r results.Run) string {
	if r.Round > 0 {
		return "round " + strconv.Itoa(r.Round)
	}
	return "repeat " + strconv.Itoa(r.Repeat)
}

func phaseSuffix(r results.Run) string {
	if r.Phase == "" {
		return ""
	}
	return " (" + r.Phase + ")"
}

func revocationSummary(rv results.Revocation) string {
	return fmt.Sprintf("time to reject %s, %d accepted after, bound %s", fmtMSPtr(rv.TimeToRejectMS, "never"), rv.AcceptedAfter, fmtMSPtr(rv.BoundMS, "none"))
}

func scenarioSection(d *document, dir string, f *results.File, ss analysis.ScenarioSummary, plotsDir string, plots []string) {
	title := "Scenario: " + ss.Name
	if si, ok := f.Info(ss.Name); ok && si.Question != "" {
		title += " — " + si.Question
	}
	d.details(title)
	if si, ok := f.Info(ss.Name); ok && si.Description != "" {
		d.p(txt(si.Description))
	}
	runs := analysis.ScenarioRuns(f, ss.Name)
	if len(ss.Rows) > 0 {
		d.h(3, "Ratios")
		ratioTable(d, ss)
	}
	if len(runs) > 0 {
		d.h(3, "Runs")
		runTable(d, runs)
	}
	if len(plots) > 0 {
		d.h(3, "Plots")
		for _, name := range plots {
			d.image(plotsDir, name, name)
		}
	}
	filesSection(d, dir, runs)
	securitySection(d, f, ss.Name)
	d.endDetails()
}

// coverageOf describes the intervals of a scenario by its first ratio
// with one (all ratios of a scenario share the rounds, so their coverage).
func coverageOf(ss analysis.ScenarioSummary) string {
	for _, r := range ss.Rows {
		for _, m := range analysis.Metrics {
			if iv := r.VsControl[m]; iv.HasRange() {
				return analysis.FormatCoverage(iv)
			}
		}
	}
	return ""
}

// ratioTable is the scenario's per-verifier numbers with their intervals.
func ratioTable(d *document, ss analysis.ScenarioSummary) {
	var aa []string
	for _, m := range analysis.Metrics {
		if x, ok := analysis.NoiseWidth(ss.Noise[m]); ok {
			aa = append(aa, fmt.Sprintf("%s ± %.1f %%", m.Label(), 100*x))
		}
	}
	how := "Ratios from repeats, unpaired (no interleaved rounds)."
	if ss.Rounds {
		how = "Ratios paired by interleaved round."
	}
	if len(aa) > 0 {
		how += " A/A noise floor: " + strings.Join(aa, ", ") + "."
	} else {
		how += " No A/A row: differences are judged against 1."
	}
	if cov := coverageOf(ss); cov != "" {
		how += " Intervals: " + cov + " (exact coverage: the narrowest interval reaching 95 %, or the widest the rounds allow)."
	}
	d.p(txt(how + " Knee: median of the repeated searches [min–max]."))
	var rows []cell2
	for _, r := range ss.Rows {
		knee := "—"
		if r.Knee.N > 0 {
			knee = fmtSpread(r.Knee, fmtNum)
			if !r.KneeFromSearch {
				knee = "no search (achieved " + knee + ")"
			}
			if r.KneeCapped {
				knee = "≥ " + knee + " (search cap)"
			}
		}
		p99 := "—"
		if r.P99.N > 0 {
			p99 = fmtSpread(r.P99, fmtLat) + " @ " + fmtNum(r.CommonRPS) + " req/s"
		}
		crypt, slow := "—", "—"
		if r.Crypt.N > 0 {
			crypt = fmtSpread(r.Crypt, fmtPct)
		}
		if r.SlowFraction.N > 0 && !analysis.IsControl(r.Verifier) {
			slow = fmtSpread(r.SlowFraction, fmtPct)
		}
		none := analysis.Difference{Kind: -1}
		rows = append(rows, cell2{cell{{Text: r.Verifier, Strong: true}},
			txt(knee), ratioCellWith(r.VsControl[analysis.MetricKnee], ss.VersusControl(r.Verifier, analysis.MetricKnee), r.Verifier, false),
			txt(fmtSpread(r.CPU, fmtCPU)), ratioCellWith(r.VsControl[analysis.MetricCPU], ss.VersusControl(r.Verifier, analysis.MetricCPU), r.Verifier, false),
			ratioCell(baselineRatio(r.VsBaseline[analysis.MetricCPU], r.Verifier), none, r.Verifier),
			txt(p99), ratioCellWith(r.VsControl[analysis.MetricP99], ss.VersusControl(r.Verifier, analysis.MetricP99), r.Verifier, false),
			txt(crypt), txt(slow)})
	}
	d.table([]string{"verifier", "knee (req/s)", "knee × no-auth", "CPU/req", "CPU × no-auth", "CPU × uncached", "p99", "p99 × no-auth", "crypt share", "slow path"}, rows)
}

func runTable(d *document, runs []results.Run) {
	runs = append([]results.Run(nil), runs...)
	sort.SliceStable(runs, func(a, b int) bool {
		ra, rb := runs[a], runs[b]
		if ra.Verifier != rb.Verifier {
			return analysis.VerifierLess(ra.Verifier, rb.Verifier)
		}
		if ca, cb := setup(ra), setup(rb); ca != cb {
			return ca < cb
		}
		if (ra.KneeRPS > 0) != (rb.KneeRPS > 0) {
			return rb.KneeRPS > 0 // knee summaries after their steps
		}
		if ra.OfferedRPS != rb.OfferedRPS {
			return ra.OfferedRPS < rb.OfferedRPS
		}
		return analysis.Unit(ra) < analysis.Unit(rb)
	})
	var rows []cell2
	for _, r := range runs {
		phase := r.Phase
		if r.KneeRPS > 0 {
			phase = strings.TrimSpace(phase + " knee = " + fmtNum(r.KneeRPS))
		}
		achieved := txt(fmtNum(r.AchievedRPS))
		if r.ShortOfTarget {
			achieved = cell{{Text: fmtNum(r.AchievedRPS) + " ⚠️ short", Class: "warn"}}
		}
		success := txt(fmtPct(r.SuccessRatio))
		if r.SuccessRatio < analysis.MinSuccess {
			success = cell{{Text: fmtPct(r.SuccessRatio), Class: "warn"}}
		}
		cs, vs := r.CPUShare, r.VerifierStats
		shares := []string{"—", "—", "—", "—"}
		if cs.Samples > 0 {
			shares = []string{fmtPct(cs.Crypt), fmtPct(cs.ShadowRead), fmtPct(cs.Stat), fmtPct(cs.Other)}
		}
		cost := "—"
		if r.CPUSecondsPer1kReq > 0 {
			cost = strconv.FormatFloat(r.CPUSecondsPer1kReq, 'g', 3, 64)
			if r.CPUSource != "" {
				cost += " (" + r.CPUSource + ")"
			}
		}
		l := r.Latency
		rows = append(rows, cell2{
			cell{{Text: r.Verifier, Strong: true}}, txt(orDash(phase)), txt(strconv.Itoa(analysis.Unit(r))), txt(orDash(setup(r))),
			txt(fmtNum(r.OfferedRPS)), achieved, success,
			txt(fmtLat(l.P50)), txt(fmtLat(l.P90)), txt(fmtLat(l.P99)), txt(fmtLat(l.P999)), txt(fmtLat(l.Max)),
			txt(shares[0]), txt(shares[1]), txt(shares[2]), txt(shares[3]), txt(cost),
			txt(u(vs.Fast)), txt(u(vs.Slow)), txt(u(vs.Fallback)), txt(u(vs.Resets)), txt(u(vs.Stats)), txt(u(vs.Rejected)),
		})
	}
	d.table([]string{"verifier", "phase", "round", "setup", "offered", "achieved", "success",
		"p50", "p90", "p99", "p99.9", "max",
		"crypt", "shadow_read", "stat", "other", "CPU-s/1k req",
		"fast", "slow", "fallback", "resets", "stats", "rejected"}, rows)
}

// setup describes what besides verifier and rate distinguishes a run.
func setup(r results.Run) string {
	var parts []string
	if r.Tokens > 0 {
		parts = append(parts, fmt.Sprintf("tokens=%d", r.Tokens))
	}
	if r.Concurrency > 0 {
		parts = append(parts, fmt.Sprintf("conc=%d", r.Concurrency))
	}
	if r.Processes > 0 {
		parts = append(parts, fmt.Sprintf("procs=%d", r.Processes))
	}
	if r.ServerProcs > 0 {
		parts = append(parts, fmt.Sprintf("server GOMAXPROCS=%d", r.ServerProcs))
	}
	if r.TLS {
		parts = append(parts, "tls")
	}
	return strings.Join(parts, " ")
}

// filesSection links the files results.json names for each run: flame
// graph, profile, folded stacks, vegeta results and the differential
// flame graphs against uncached.
func filesSection(d *document, dir string, runs []results.Run) {
	var rows []cell2
	var embeds []block
	var diffs []cell
	for _, r := range runs {
		if r.DiffFlamegraphs != nil {
			var c cell
			for _, g := range []struct{ kind, rel string }{{"grown", r.DiffFlamegraphs.Grown}, {"shrunk", r.DiffFlamegraphs.Shrunk}} {
				if ok, exists := local(dir, g.rel); !ok || !exists {
					continue
				}
				if len(c) == 0 {
					c = append(c, span{Text: fmt.Sprintf("%s vs %s (%s): ", r.Verifier, results.BaselineVerifier, unitName(r))})
				} else {
					c = append(c, span{Text: " · "})
				}
				c = append(c, span{Text: g.kind, Href: g.rel})
				embeds = append(embeds, block{Kind: kEmbed, Path: g.rel, Alt: "differential flame graph: " + r.Verifier + " vs " + results.BaselineVerifier + ", " + g.kind})
			}
			if len(c) > 0 {
				diffs = append(diffs, c)
			}
		}
		if r.Profile == "" && r.Flamegraph == "" && r.Folded == "" && r.ResultsFile == "" && r.Speedscope == "" {
			continue
		}
		rows = append(rows, cell2{
			cell{{Text: r.Verifier, Strong: true}}, txt(fmtNum(r.OfferedRPS) + phaseSuffix(r)), txt(strconv.Itoa(analysis.Unit(r))),
			flameLinks(dir, r), fileLink(dir, "speedscope", r.Speedscope), fileLink(dir, "profile", r.Profile),
			fileLink(dir, "folded", r.Folded), fileLink(dir, "vegeta results", r.ResultsFile),
		})
		if ok, exists := local(dir, r.Flamegraph); ok && exists {
			embeds = append(embeds, block{Kind: kEmbed, Path: r.Flamegraph,
				Alt: fmt.Sprintf("flame graph: %s @ %s req/s, %s", r.Verifier, fmtNum(r.OfferedRPS), unitName(r))})
		}
	}
	if len(rows) == 0 && len(diffs) == 0 {
		return
	}
	d.h(3, "Flame graphs and profiles")
	if len(rows) > 0 {
		d.table([]string{"verifier", "offered", "round", "flame graph", "speedscope", "profile", "folded", "vegeta results"}, rows)
		d.pClass("note", txt("Open a flame graph file to zoom (click a frame) and search (Ctrl-F); “crypt” opens it with the crypt share highlighted. "+
			"Embedded copies below are static pictures. speedscope.app opens the speedscope, profile and folded files."))
	}
	if len(diffs) > 0 {
		d.p(txt("Differential flame graphs (grown: more samples than uncached, shrunk: fewer):"))
		d.list(diffs)
	}
	d.Blocks = append(d.Blocks, embeds...)
}

// cryptSearch is the flame graph search (flame.js reads "#s=") that
// highlights the password hash: every crypt frame is in impl/cryptpw.
const cryptSearch = "#s=cryptpw"

// flameLinks links a run's flame graph and, for token verifiers (the
// controls and ticket strategies hash nothing), the same file opened with
// the crypt share highlighted.
func flameLinks(dir string, r results.Run) cell {
	c := fileLink(dir, "flame graph", r.Flamegraph)
	if ok, exists := local(dir, r.Flamegraph); ok && exists && !analysis.IsTicket(r.Verifier) && !analysis.IsControl(r.Verifier) {
		c = append(c, span{Text: " · "}, span{Text: "crypt", Href: path.Clean(filepath.ToSlash(r.Flamegraph)) + cryptSearch})
	}
	return c
}

// local reports whether rel is a relative path inside dir, and whether the file exists.
func local(dir, rel string) (ok, exists bool) {
	if rel == "" || strings.Contains(rel, ":") || !filepath.IsLocal(filepath.FromSlash(rel)) {
		return false, false
	}
	_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
	return true, err == nil
}

// fileLink links a file of the report dir; anything else is shown as text
// so the HTML never references outside resources, and a named file that
// is not there is marked rather than linked.
func fileLink(dir, label, rel string) cell {
	if rel == "" {
		return txt("—")
	}
	ok, exists := local(dir, rel)
	if !ok {
		return cell{{Text: rel, Code: true}}
	}
	if !exists {
		return cell{{Text: label}, {Text: " (missing)", Class: "warn"}}
	}
	return cell{{Text: label, Href: path.Clean(filepath.ToSlash(rel))}}
}

func securitySection(d *document, f *results.File, sc string) {
	var revs []results.Revocation
	for _, rv := range f.Revocations {
		if rv.Scenario == sc {
			revs = append(revs, rv)
		}
	}
	if len(revs) == 0 {
		return
	}
	sort.SliceStable(revs, func(a, b int) bool {
		if revs[a].Verifier != revs[b].Verifier {
			return analysis.VerifierLess(revs[a].Verifier, revs[b].Verifier)
		}
		return revs[a].Event < revs[b].Event
	})
	d.h(3, "Security: revocation and rotation")
	var rows []cell2
	for _, rv := range revs {
		res := cell{{Text: "✅ PASS", Class: "pass"}}
		if !rv.Pass {
			res = cell{{Text: "❌ FAIL", Strong: true, Class: "fail"}}
		}
		conv := "yes"
		if !rv.Converged {
			conv = "no"
		}
		rows = append(rows, cell2{
			cell{{Text: rv.Verifier, Strong: true}}, txt(rv.Event),
			txt(fmtMSPtr(rv.TimeToRejectMS, "never")), txt(strconv.Itoa(rv.AcceptedAfter)),
			txt(fmtMSPtr(rv.TimeToAcceptNewMS, "—")), txt(fmtMSPtr(rv.BoundMS, "none")),
			txt(conv), res, txt(orDash(rv.Expectation)),
		})
	}
	d.table([]string{"verifier", "event", "time to reject", "accepted after", "time to accept new", "bound", "converged", "result", "expectation"}, rows)
}

// ---- formatting ----

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// fmtNum formats a rate: whole numbers from 100 up, else three significant digits.
func fmtNum(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "—"
	case math.Abs(x) >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	default:
		return strconv.FormatFloat(x, 'g', 3, 64)
	}
}

// fmtCPU formats CPU-seconds per 1000 requests as CPU time per request.
func fmtCPU(s1k float64) string {
	if math.IsNaN(s1k) || s1k <= 0 {
		return "—"
	}
	return fmtNS(s1k * 1e6) // s per 1000 req = 1e6 ns per req
}

// fmtNS formats a duration given in nanoseconds.
func fmtNS(ns float64) string {
	switch {
	case math.IsNaN(ns) || ns <= 0:
		return "—"
	case ns < 1000:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 1e4:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	case ns < 1e6:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	}
}

// fmtPct formats a 0..1 fraction as a percentage; small values keep two
// decimals so the 1 % target stays readable.
func fmtPct(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "—"
	case x < 0.1:
		return fmt.Sprintf("%.2f %%", x*100)
	default:
		return fmt.Sprintf("%.1f %%", x*100)
	}
}

// fmtLat formats a latency given in microseconds.
func fmtLat(us float64) string {
	switch {
	case math.IsNaN(us) || math.IsInf(us, 0) || us <= 0:
		return "—"
	case us < 1000:
		return fmt.Sprintf("%.0f µs", us)
	case us < 1e6:
		return fmt.Sprintf("%.2f ms", us/1000)
	default:
		return fmt.Sprintf("%.2f s", us/1e6)
	}
}

func fmtMS(ms float64) string {
	if ms >= 1000 {
		return fmt.Sprintf("%.2f s", ms/1000)
	}
	return fmt.Sprintf("%.1f ms", ms)
}

func fmtMSPtr(p *float64, ifNil string) string {
	if p == nil {
		return ifNil
	}
	return fmtMS(*p)
}

// fmtMedian shows only the median (the headline keeps its cells short;
// the scenario sections show the spread).
func fmtMedian(s analysis.Spread, f func(float64) string) string {
	if s.N == 0 {
		return "—"
	}
	return f(s.Median)
}

// fmtPlusMinus shows the median and the larger distance of min and max
// from it in per cent: the headline's compact spread.
func fmtPlusMinus(s analysis.Spread, f func(float64) string) string {
	if s.N == 0 {
		return "—"
	}
	if s.N == 1 || s.Min == s.Max || s.Median == 0 {
		return f(s.Median)
	}
	dev := math.Max(s.Max-s.Median, s.Median-s.Min) / s.Median
	return fmt.Sprintf("%s ± %.1f %%", f(s.Median), 100*dev)
}

// fmtSpread shows the median and, when repeats differ, [min–max].
func fmtSpread(s analysis.Spread, f func(float64) string) string {
	if s.N == 0 {
		return "—"
	}
	if s.N == 1 || s.Min == s.Max {
		return f(s.Median)
	}
	return fmt.Sprintf("%s [%s–%s]", f(s.Median), f(s.Min), f(s.Max))
}
