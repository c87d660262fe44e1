package report

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/results"
)

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

// scenarioSection is one scenario's detail: its question, ratios, runs,
// plots, files and revocation checks.
func scenarioSection(dir string, f *results.File, ss analysis.ScenarioSummary, plotsDir string, plots []string) section {
	title := "Scenario: " + ss.Name
	if si, ok := f.Info(ss.Name); ok && si.Question != "" {
		title += " — " + si.Question
	}
	d := &document{}
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
	return section{Title: title, Blocks: d.Blocks}
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
	d.p(txt(how + " Knee: median of the repeated searches [min–max]. Crypt share: Hodges–Lehmann over rounds [interval], with the fewest profile samples of a window (1 sample = 1/n of the CPU)."))
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
			crypt = fmtShare(r.CryptInterval) + fmt.Sprintf(" (≥ %d samples)", r.CryptSamples)
			if r.CryptFromKnee {
				crypt += ", knee steps"
			}
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
		e := analysis.EventOf(rv)
		reject := fmtMSPtr(rv.TimeToRejectMS, "never")
		if e.FirstProbe && e.HasProbes {
			// Where the probe fell says nothing more: the spacing bounds it.
			reject = "first probe (≤ " + fmtMSRound(max(e.SpacingMS, e.FirstProbeMS)) + ")"
		}
		spacing, first := "—", "—"
		if e.HasProbes {
			spacing, first = fmtMS(e.SpacingMS), fmtMS(e.FirstProbeMS)
		}
		rows = append(rows, cell2{
			cell{{Text: rv.Verifier, Strong: true}}, txt(rv.Event),
			txt(strconv.Itoa(rv.AcceptedAfter)), txt(reject), txt(first), txt(spacing),
			txt(fmtMSPtr(rv.TimeToAcceptNewMS, "—")), txt(fmtBoundPtr(rv.BoundMS)),
			txt(conv), res, txt(orDash(rv.Expectation)),
		})
	}
	d.table([]string{"verifier", "event", "accepted after the change", "lasting rejection", "first probe after", "probe spacing", "new secret accepted", "bound", "converged", "result", "expectation"}, rows)
	d.pClass("note", txt("Times from the completed change. Accepted after the change: old-secret requests that passed once the change had completed. "+
		"Lasting rejection: the first rejection after the last acceptance; “first probe (≤ x)” when nothing was accepted, so the time only says where that probe fell. Each row is one event."))
}

// fmtBoundPtr is a declared bound of one event: "0" (the next request
// sees the change), a time, or "∞" (unbounded by design).
func fmtBoundPtr(p *float64) string {
	switch {
	case p == nil:
		return "∞"
	case *p == 0:
		return "0"
	}
	return fmtMS(*p)
}
