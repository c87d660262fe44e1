package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/results"
)

// headlineSection is the one-row-per-verifier table; the trade-off chart
// it explains is drawn beside the verdict block.
func headlineSection(d *document, ov analysis.Overview) {
	d.h(2, "Headline")
	if len(ov.Rows) == 0 {
		d.p(txt("No load runs were recorded."))
		return
	}
	overviewTable(d, ov, HeadlineID)
	noise := "no A/A copy of the control was measured, so nothing is marked ≈ and a ratio differs when its interval excludes 1"
	if x, ok := analysis.NoiseWidth(ov.Noise[analysis.MetricKnee]); ok {
		noise = fmt.Sprintf("A/A noise floor (the control against its copy in the same rounds): throughput ± %.1f %%", 100*x)
	}
	d.pClass("note", txt(fmt.Sprintf("Ratios from %s: Hodges–Lehmann estimates [interval] over rounds (coverage in the scenario file); [n/a]: one round, no interval. "+
		"Hit path: %s. req/s: sustained throughput (knee); ≈ the whole interval inside the noise floor, ↑/↓ wholly beyond it, ? neither; %s. "+
		"Staleness: %s. Chart: each verifier at its worst file-edit staleness and CPU per request; dashed: the Pareto front.",
		orDash(ov.Scenario), hitLegend(ov), noise, stalenessLegend(ov))))
	costTable(d, ov)
}

// hitLegend defines the hit-path column with its n.
func hitLegend(ov analysis.Overview) string {
	n := map[int]bool{}
	for _, r := range ov.Rows {
		if r.HitNS.N > 0 {
			n[r.HitNS.N] = true
		}
	}
	s := fmt.Sprintf("microbenchmark ns/op, median [%.0f %% interval] as benchstat computes it ((min–max) with fewer than 6 runs)", 100*analysis.BenchConfidence)
	if len(n) == 1 {
		for k := range n {
			s += fmt.Sprintf(", n = %d runs each", k)
		}
	} else if len(n) > 1 {
		s += ", n per cell"
	}
	return s
}

// stalenessLegend defines the staleness columns with the probes' spacing,
// their resolution.
func stalenessLegend(ov analysis.Overview) string {
	spacing := 0.0
	for _, r := range ov.Rows {
		for _, s := range r.Staleness {
			spacing = math.Max(spacing, s.SpacingMS)
		}
	}
	res := "probe spacing not recorded"
	if spacing > 0 {
		res = "probes ≤ " + fmtMSRound(spacing) + " apart, the resolution"
	}
	return "old-secret requests accepted after the change completed (acc.) and the time to the lasting rejection / declared bound; " +
		"next probe: rejected at the first probe after the change (" + res + "); never: not rejected within the probe; ∞: unbounded by design; ¹ one event"
}

// overviewTable is one group's one-row-per-verifier table, narrow enough
// for a 1366 px screen: the costs in detail follow in costTable.
func overviewTable(d *document, ov analysis.Overview, id string) {
	head := []string{"verifier", "hit path", "CPU × uncached", "req/s × no-auth", "API change", "hand edit", "cp -p restore"}
	var rows []cell2
	for _, r := range ov.Rows {
		none := analysis.Difference{Kind: -1}
		row := cell2{cell{{Text: r.Verifier, Strong: true}}, txt(fmtBench(r.HitNS, ov)),
			ratioCell(baselineRatio(r.CPUVsBaseline, r.Verifier), none, r.Verifier),
			kneeCell(r)}
		api := mergeStaleness(r.Staleness[analysis.ClassAPISelf], r.Staleness[analysis.ClassAPIOther])
		row = append(row, stalenessCell(api), stalenessCell(r.Staleness[analysis.ClassManualEdit]), stalenessCell(r.Staleness[analysis.ClassRestore]))
		rows = append(rows, row)
	}
	d.tableID(id, head, rows)
}

// costTable is the rest of the headline's numbers, collapsed.
func costTable(d *document, ov analysis.Overview) {
	var rows []cell2
	for _, r := range ov.Rows {
		none := analysis.Difference{Kind: -1}
		rows = append(rows, cell2{cell{{Text: r.Verifier, Strong: true}}, txt(fmtMedian(r.CPU, fmtCPU)),
			ratioCell(r.CPUVsControl, r.CPUDiff, r.Verifier), ratioCell(baselineRatio(r.KneeVsBaseline, r.Verifier), none, r.Verifier),
			txt(fmtShare(r.FloodCrypt))})
	}
	d.details("CPU per request, ratios to the control and the invalid-flood crypt share")
	d.table([]string{"verifier", "CPU/req", "CPU × no-auth", "req/s × uncached", "flood crypt"}, rows)
	d.pClass("note", txt(fmt.Sprintf("CPU/req: median server CPU per request over rounds. Flood crypt: crypt share of server CPU under %s (90 %% wrong secrets).", analysis.FloodScenario)))
	d.endDetails()
}

// fmtBench formats a hit-path cell: median [interval], n when the rows
// differ in n, min–max when there are too few runs for an interval.
func fmtBench(b analysis.Bench, ov analysis.Overview) string {
	if b.N == 0 {
		return "—"
	}
	same := true
	for _, r := range ov.Rows {
		if r.HitNS.N > 0 && r.HitNS.N != b.N {
			same = false
		}
	}
	s := fmtNS(b.Median)
	switch {
	case b.HasInterval():
		s += " [" + fmtNSRange(b.Lo, b.Hi) + "]"
	case b.N > 1:
		return fmt.Sprintf("%s (%s, n=%d)", s, fmtNSRange(b.Lo, b.Hi), b.N)
	}
	if !same || !b.HasInterval() {
		s += fmt.Sprintf(" n=%d", b.N)
	}
	return s
}

// fmtNSRange formats lo–hi with one unit.
func fmtNSRange(lo, hi float64) string {
	a, b := fmtNS(lo), fmtNS(hi)
	if ua, ub := unitOf(a), unitOf(b); ua == ub && ua != "" {
		a = strings.TrimSuffix(a, " "+ua)
	}
	return a + "–" + b
}

func unitOf(s string) string {
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		return s[i+1:]
	}
	return ""
}

// mergeStaleness combines two classes into one headline cell.
func mergeStaleness(a, b analysis.Staleness) analysis.Staleness {
	if a.N == 0 {
		return b
	}
	if b.N == 0 {
		return a
	}
	return analysis.Staleness{
		N: a.N + b.N, WorstMS: math.Max(a.WorstMS, b.WorstMS), Never: a.Never || b.Never,
		AcceptedAfter: max(a.AcceptedAfter, b.AcceptedAfter), FirstProbe: a.FirstProbe && b.FirstProbe,
		SpacingMS: math.Max(a.SpacingMS, b.SpacingMS), BoundMS: math.Max(a.BoundMS, b.BoundMS),
		Unbounded: a.Unbounded || b.Unbounded, Failed: a.Failed + b.Failed,
	}
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
// unless short, where the headline's ≈ ↑ ↓ ? and its legend stand for it.
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
	case analysis.Unclear:
		c = append(c, span{Text: " ?"})
	}
	return c
}

// stalenessCell shows what users need of a class: requests accepted after
// the change and the time to the lasting rejection, against the declared
// bound; "next probe" when the first probe after the change was rejected
// (its time says only where that probe fell), ¹ for a single event.
func stalenessCell(s analysis.Staleness) cell {
	if s.N == 0 {
		return txt("—")
	}
	var measured string
	switch {
	case s.Never:
		measured = "never"
	case s.FirstProbe:
		measured = "next probe"
	default:
		measured = fmt.Sprintf("%d acc., %s", s.AcceptedAfter, fmtMS(s.WorstMS))
	}
	c := cell{{Text: measured + " / " + fmtBound(s)}}
	if s.N == 1 {
		c = append(c, span{Text: " ¹"})
	}
	if s.Failed > 0 {
		c = append(c, span{Text: fmt.Sprintf(" ❌ %d failed", s.Failed), Strong: true, Class: "fail"})
	}
	return c
}

// fmtBound is a declared bound: "0" (the next request sees the change),
// a time, or "∞" (unbounded by design).
func fmtBound(s analysis.Staleness) string {
	switch {
	case s.Unbounded:
		return "∞"
	case s.BoundMS == 0:
		return "0"
	}
	return fmtMS(s.BoundMS)
}

// kneeCell is the throughput ratio to the control; a capped search (the
// verifier's or the control's) makes it a bound, so it gets no ≈ ↑ ↓ mark.
func kneeCell(r analysis.OverviewRow) cell {
	if r.KneeCapped && r.KneeVsControl.Valid() && r.Verifier != results.ControlVerifier {
		return append(ratioCell(r.KneeVsControl, analysis.Difference{Kind: -1}, r.Verifier), span{Text: " capped", Class: "warn"})
	}
	return ratioCell(r.KneeVsControl, r.KneeDiff, r.Verifier)
}
