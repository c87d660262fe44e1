// Package report renders a run's results.json as report.md (for GitHub) and
// index.html (self-contained: inline CSS, images embedded as data: URIs).
//
// The report leads with the environment, a headline table per verifier and
// the targets checked against the data (pass or MISSED); failures,
// runs short of their target rate and interrupted runs are always shown, never
// hidden. Per-scenario sections follow with all runs, plots, flame graph and
// profile links and the revocation (security) table.
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

	"github.com/authbench/authbench/internal/plotting"
	"github.com/authbench/authbench/internal/results"
)

// File names written into the report directory.
const (
	MarkdownFile = "report.md"
	HTMLFile     = "index.html"
)

// DefaultMaxEmbedBytes caps the size of a flame graph embedded in index.html.
const DefaultMaxEmbedBytes = 2 << 20

// Options tune Write. The zero value is ready to use.
type Options struct {
	// PlotsDir is the directory, relative to the report dir, for the plots
	// ("plots" when empty).
	PlotsDir string
	// NoPlots skips drawing plots.
	NoPlots bool
	// MaxEmbedBytes caps flame graphs embedded in index.html; larger ones
	// are linked. 0 means DefaultMaxEmbedBytes, negative never embeds.
	MaxEmbedBytes int64
	// TargetScenarios restricts the target checks to these scenarios
	// (e.g. the steady-state one); empty checks every scenario.
	TargetScenarios []string
}

// Write renders f into dir/report.md and dir/index.html, drawing the plots
// into dir/<PlotsDir> first. dir is the run's report directory; paths inside
// f are relative to it.
func Write(dir string, f *results.File, opts Options) error {
	if opts.PlotsDir == "" {
		opts.PlotsDir = "plots"
	}
	if opts.MaxEmbedBytes == 0 {
		opts.MaxEmbedBytes = DefaultMaxEmbedBytes
	}
	if !filepath.IsLocal(opts.PlotsDir) {
		return fmt.Errorf("report: plots dir %q is not inside the report dir", opts.PlotsDir)
	}
	plots := map[string][]string{}
	if !opts.NoPlots {
		var err error
		plots, err = plotting.All(filepath.Join(dir, opts.PlotsDir), f)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	d := build(dir, f, opts, plots)
	if err := os.WriteFile(filepath.Join(dir, MarkdownFile), d.markdown(), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	html, err := d.html(dir, opts.MaxEmbedBytes)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, HTMLFile), html, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

func build(dir string, f *results.File, opts Options, plots map[string][]string) *document {
	d := &document{Title: "authbench report — " + f.RunID}
	sum := Summarize(f, opts)

	// What must not be missed goes first.
	if f.Interrupted {
		d.callout("fail", cell{{Text: "⚠️ Interrupted run: ", Strong: true, Class: "fail"},
			{Text: "the suite was stopped before it finished; the results below are partial."}})
	}
	if len(sum.Failed) > 0 {
		d.callout("fail", cell{{Text: fmt.Sprintf("❌ %d of %d revocation checks FAILED", len(sum.Failed), sum.Revocations), Strong: true, Class: "fail"},
			{Text: " — see Targets and the security tables."}})
	}
	if missed := countMissed(sum.Targets); missed > 0 {
		d.callout("warn", cell{{Text: fmt.Sprintf("%d of %d targets MISSED", missed, len(sum.Targets)), Strong: true, Class: "warn"}})
	}
	if len(sum.Short) > 0 {
		d.callout("warn", cell{{Text: fmt.Sprintf("⚠️ %d runs fell short of their target rate", len(sum.Short)), Strong: true, Class: "warn"},
			{Text: " — listed under Targets."}})
	}

	envSection(d, f)
	headlineSection(d, sum)
	targetSection(d, sum)
	if len(f.Notes) > 0 {
		d.h(2, "Notes")
		var items []cell
		for _, n := range f.Notes {
			items = append(items, txt(n))
		}
		d.list(items)
	}
	for _, sc := range plotting.Scenarios(f) {
		scenarioSection(d, dir, f, sc, opts.PlotsDir, plots[sc])
	}
	return d
}

func countMissed(ts []Target) int {
	n := 0
	for _, t := range ts {
		if !t.Pass {
			n++
		}
	}
	return n
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

func headlineSection(d *document, sum Summary) {
	d.h(2, "Headline")
	if len(sum.Headline) == 0 {
		d.p(txt("No load runs were recorded."))
		return
	}
	d.p(txt("Knee: sustained throughput — the knee search result, or else the highest achieved rate at ≥ 99 % success; median over repeats [min–max]. " +
		"p99 is taken at the highest offered rate every verifier of the scenario ran at; crypt share and slow-path fraction at that rate (else at the verifier's highest rate)."))
	var rows []cell2
	for _, r := range sum.Headline {
		knee := "—"
		if r.Knee.N > 0 {
			knee = fmtSpread(r.Knee, fmtNum)
			if !r.KneeFromSearch {
				knee += " (best ≥ 99 %)"
			}
			if r.KneeCapped {
				knee = "≥ " + knee + " (search cap)"
			}
		}
		ratio := "—"
		if !math.IsNaN(r.KneeRatio) && !math.IsInf(r.KneeRatio, 0) {
			ratio = fmt.Sprintf("%.3f ×", r.KneeRatio)
		}
		p99 := "—"
		if r.P99.N > 0 {
			p99 = fmtSpread(r.P99, fmtLat) + " @ " + fmtNum(r.CommonRPS) + " req/s"
		}
		crypt, slow := "—", "—"
		if r.Crypt.N > 0 {
			crypt = fmtSpread(r.Crypt, fmtPct)
		}
		if r.SlowFraction.N > 0 && r.Verifier != plotting.NoAuth {
			slow = fmtSpread(r.SlowFraction, fmtPct)
		}
		rows = append(rows, cell2{txt(r.Scenario), cell{{Text: r.Verifier, Strong: true}}, txt(knee), txt(ratio), txt(p99), txt(crypt), txt(slow)})
	}
	d.table([]string{"scenario", "verifier", "knee (req/s)", "× no-auth", "p99", "crypt share", "slow path"}, rows)
}

func targetSection(d *document, sum Summary) {
	d.h(2, "Targets")
	if len(sum.Targets) == 0 {
		d.p(txt("No target could be checked: the runs lack a no-auth control knee and CPU samples."))
	} else {
		var rows []cell2
		for _, t := range sum.Targets {
			res := cell{{Text: "✅ pass", Class: "pass"}}
			if !t.Pass {
				res = cell{{Text: "❌ MISSED", Strong: true, Class: "fail"}}
			}
			rows = append(rows, cell2{txt(t.Name), txt(t.Scenario), txt(t.Verifier), txt(t.Measured), res})
		}
		d.table([]string{"target", "scenario", "verifier", "measured", "result"}, rows)
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
		d.p(txt("None: every run achieved at least 99 % of its offered rate."))
		return
	}
	d.callout("warn", cell{{Text: "⚠️ These runs did not reach their offered rate; their latencies describe an overloaded generator or server, not the offered load.", Class: "warn"}})
	var items []cell
	for _, r := range sum.Short {
		items = append(items, cell{{Text: "⚠️ ", Class: "warn"}, {Text: fmt.Sprintf("%s / %s%s, repeat %d: offered %s req/s, achieved %s req/s (%s)",
			r.Scenario, r.Verifier, phaseSuffix(r), r.Repeat, fmtNum(r.OfferedRPS), fmtNum(r.AchievedRPS), fmtPct(ratio(r.AchievedRPS, r.OfferedRPS)))}})
	}
	d.list(items)
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

func scenarioSection(d *document, dir string, f *results.File, sc, plotsDir string, plots []string) {
	d.h(2, "Scenario: "+sc)
	runs := plotting.ScenarioRuns(f, sc)
	if len(runs) > 0 {
		d.h(3, "Runs")
		runTable(d, runs)
	}
	if len(plots) > 0 {
		d.h(3, "Plots")
		for _, name := range plots {
			base := path.Join(filepath.ToSlash(plotsDir), name)
			d.Blocks = append(d.Blocks, block{Kind: kImage, Alt: name, Path: base + ".png", Link: base + ".svg"})
		}
	}
	filesSection(d, dir, sc, runs)
	securitySection(d, f, sc)
}

func runTable(d *document, runs []results.Run) {
	runs = append([]results.Run(nil), runs...)
	sort.SliceStable(runs, func(a, b int) bool {
		ra, rb := runs[a], runs[b]
		if ra.Verifier != rb.Verifier {
			return plotting.VerifierLess(ra.Verifier, rb.Verifier)
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
		return ra.Repeat < rb.Repeat
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
		if r.SuccessRatio < plotting.MinSuccess {
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
		}
		l := r.Latency
		rows = append(rows, cell2{
			cell{{Text: r.Verifier, Strong: true}}, txt(orDash(phase)), txt(strconv.Itoa(r.Repeat)), txt(orDash(setup(r))),
			txt(fmtNum(r.OfferedRPS)), achieved, success,
			txt(fmtLat(l.P50)), txt(fmtLat(l.P90)), txt(fmtLat(l.P99)), txt(fmtLat(l.P999)), txt(fmtLat(l.Max)),
			txt(shares[0]), txt(shares[1]), txt(shares[2]), txt(shares[3]), txt(cost),
			txt(u(vs.Fast)), txt(u(vs.Slow)), txt(u(vs.Fallback)), txt(u(vs.Resets)), txt(u(vs.Stats)), txt(u(vs.Rejected)),
		})
	}
	d.table([]string{"verifier", "phase", "rep", "setup", "offered", "achieved", "success",
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

func filesSection(d *document, dir, sc string, runs []results.Run) {
	var rows []cell2
	var embeds []block
	for _, r := range runs {
		if r.Profile == "" && r.Flamegraph == "" && r.Folded == "" && r.ResultsFile == "" {
			continue
		}
		rows = append(rows, cell2{
			cell{{Text: r.Verifier, Strong: true}}, txt(fmtNum(r.OfferedRPS) + phaseSuffix(r)), txt(strconv.Itoa(r.Repeat)),
			fileLink(dir, "flame graph", r.Flamegraph), fileLink(dir, "profile", r.Profile),
			fileLink(dir, "folded", r.Folded), fileLink(dir, "vegeta results", r.ResultsFile),
		})
		if ok, exists := local(dir, r.Flamegraph); ok && exists {
			embeds = append(embeds, block{Kind: kEmbed, Path: r.Flamegraph,
				Alt: fmt.Sprintf("flame graph: %s @ %s req/s, repeat %d", r.Verifier, fmtNum(r.OfferedRPS), r.Repeat)})
		}
	}
	// Differential flame graphs against uncached, when the pipeline made them.
	var diffs []cell
	for _, v := range plotting.Verifiers(runs) {
		if v == plotting.Uncached {
			continue
		}
		var c cell
		for _, kind := range []string{"grown", "shrunk"} {
			rel := path.Join("flamegraphs", sc, "diff-"+v+"-vs-uncached-"+kind+".svg")
			if ok, exists := local(dir, rel); ok && exists {
				if len(c) == 0 {
					c = append(c, span{Text: v + " vs uncached: "})
				} else {
					c = append(c, span{Text: " · "})
				}
				c = append(c, span{Text: kind, Href: rel})
				embeds = append(embeds, block{Kind: kEmbed, Path: rel, Alt: "differential flame graph: " + v + " vs uncached, " + kind})
			}
		}
		if len(c) > 0 {
			diffs = append(diffs, c)
		}
	}
	if len(rows) == 0 && len(diffs) == 0 {
		return
	}
	d.h(3, "Flame graphs and profiles")
	if len(rows) > 0 {
		d.table([]string{"verifier", "offered", "rep", "flame graph", "profile", "folded", "vegeta results"}, rows)
	}
	if len(diffs) > 0 {
		d.p(txt("Differential flame graphs (grown: more samples than uncached, shrunk: fewer):"))
		d.list(diffs)
	}
	d.Blocks = append(d.Blocks, embeds...)
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
// so the HTML never references outside resources.
func fileLink(dir, label, rel string) cell {
	if rel == "" {
		return txt("—")
	}
	ok, exists := local(dir, rel)
	if !ok {
		return cell{{Text: rel, Code: true}}
	}
	c := cell{{Text: label, Href: filepath.ToSlash(rel)}}
	if !exists {
		c = append(c, span{Text: " (missing)", Class: "warn"})
	}
	return c
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
			return plotting.VerifierLess(revs[a].Verifier, revs[b].Verifier)
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

func fmtMSPtr(p *float64, ifNil string) string {
	if p == nil {
		return ifNil
	}
	if *p >= 1000 {
		return fmt.Sprintf("%.2f s", *p/1000)
	}
	return fmt.Sprintf("%.1f ms", *p)
}

// fmtSpread shows the median and, when repeats differ, [min–max].
func fmtSpread(s plotting.Spread, f func(float64) string) string {
	if s.N == 0 {
		return "—"
	}
	if s.N == 1 || s.Min == s.Max {
		return f(s.Median)
	}
	return fmt.Sprintf("%s [%s–%s]", f(s.Median), f(s.Min), f(s.Max))
}
