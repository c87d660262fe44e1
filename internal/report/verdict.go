package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/results"
)

// verdictBlock opens the report: one sentence per question the suite
// answers, each computed from this run with its number, interval and n,
// or saying which data is missing.
// The trade-off chart sits beside it in HTML, so that it and the headline
// table below both stay in the first screen.
func verdictBlock(d *document, f *results.File, ov analysis.Overview, gate *GateVerdict, plotsDir string, tradeoff []string) {
	d.h(2, "Verdict")
	d.row()
	d.Blocks = append(d.Blocks, block{Kind: kList, ID: VerdictID, Class: "verdict", Items: verdictItems(f, ov, gate)})
	for _, name := range tradeoff {
		d.imageClass(plotsDir, name, "trade-off: staleness of file edits against CPU per request", TradeOffClass)
	}
	d.endRow()
}

func verdictItems(f *results.File, ov analysis.Overview, gate *GateVerdict) []cell {
	var items []cell
	items = append(items, pickItems(ov)...)
	items = append(items, httpCostItem(ov), peerItem(ov), doubleRotationItem(f))
	if gate != nil {
		mark := span{Text: "✅ ", Class: "pass"}
		if !gate.Pass {
			mark = span{Text: "❌ ", Strong: true, Class: "fail"}
		}
		items = append(items, cell{{Text: "Regression gate: ", Strong: true}, mark, {Text: gate.Text}})
	}
	return items
}

// cached lists the cached token verifiers of the headline.
func cached(ov analysis.Overview) []analysis.OverviewRow {
	var out []analysis.OverviewRow
	for _, r := range ov.Rows {
		if !analysis.IsControl(r.Verifier) && analysis.IsCached(r.Verifier) && analysis.Group(r.Verifier) == "" {
			out = append(out, r)
		}
	}
	return out
}

// budget is a staleness budget a reader may have and the verifiers whose
// measured staleness (and declared bound) fit it.
type budget struct {
	label string
	fits  func(analysis.OverviewRow) bool
	// shows says what the pick's sentence reports of its staleness.
	shows analysis.EventClass
}

// zeroAt: every event of class c was rejected at the next probe, against
// a declared bound of 0.
func zeroAt(r analysis.OverviewRow, c analysis.EventClass) bool {
	s := r.Staleness[c]
	return s.N > 0 && s.FirstProbe && !s.Unbounded && s.BoundMS == 0 && s.Failed == 0
}

// boundedAt: every event of class c was rejected within a finite declared
// bound.
func boundedAt(r analysis.OverviewRow, c analysis.EventClass) bool {
	s := r.Staleness[c]
	return s.N > 0 && !s.Never && !s.Unbounded && s.Failed == 0
}

func apiZero(r analysis.OverviewRow) bool {
	return zeroAt(r, analysis.ClassAPISelf) && (r.Staleness[analysis.ClassAPIOther].N == 0 || zeroAt(r, analysis.ClassAPIOther))
}

var budgets = []budget{
	{"Budget 0, tokens changed only through the API", apiZero, analysis.ClassAPISelf},
	{"Budget 0 for hand edits of token.shadow", func(r analysis.OverviewRow) bool {
		return apiZero(r) && zeroAt(r, analysis.ClassManualEdit)
	}, analysis.ClassManualEdit},
	{"Budget up to a TTL for hand edits", func(r analysis.OverviewRow) bool {
		return apiZero(r) && boundedAt(r, analysis.ClassManualEdit)
	}, analysis.ClassManualEdit},
	{"Restores by cp -p (same length, mtime kept) must be seen too", func(r analysis.OverviewRow) bool {
		return apiZero(r) && boundedAt(r, analysis.ClassManualEdit) && boundedAt(r, analysis.ClassRestore)
	}, analysis.ClassRestore},
}

// pickItems answers "which verifier for which staleness budget": per
// budget, the cheapest verifier (hit path, else CPU per request) whose
// measured staleness fits it.
func pickItems(ov analysis.Overview) []cell {
	cs := cached(ov)
	measured := slices.ContainsFunc(cs, func(r analysis.OverviewRow) bool { return len(r.Staleness) > 0 })
	if !measured {
		return []cell{{{Text: "Which verifier for which staleness budget: ", Strong: true},
			{Text: "not answered — this run measured no revocation events for cached verifiers (the quick suite, or the event scenarios were skipped)."}}}
	}
	var out []cell
	for _, b := range budgets {
		var fit []analysis.OverviewRow
		for _, r := range cs {
			if b.fits(r) {
				fit = append(fit, r)
			}
		}
		c := cell{{Text: b.label + ": ", Strong: true}}
		if len(fit) == 0 {
			out = append(out, append(c, span{Text: "no cached verifier measured in this run fits it; uncached does, at its full cost."}))
			continue
		}
		best := cheapest(fit)
		c = append(c, span{Text: best.Verifier, Code: true}, span{Text: " — " + stalePhrase(best.Staleness[b.shows], b.shows) + "; " + costPhrase(best) + "."})
		if others := len(fit) - 1; others > 0 {
			c = append(c, span{Text: fmt.Sprintf(" %d more fit at a higher hit cost.", others)})
		}
		out = append(out, c)
	}
	return out
}

// cheapest picks the row with the lowest hit-path median, or the lowest
// CPU ratio to uncached when no microbenchmarks were recorded.
func cheapest(rs []analysis.OverviewRow) analysis.OverviewRow {
	key := func(r analysis.OverviewRow) float64 {
		if r.HitNS.N > 0 {
			return r.HitNS.Median
		}
		return math.Inf(1)
	}
	if !slices.ContainsFunc(rs, func(r analysis.OverviewRow) bool { return r.HitNS.N > 0 }) {
		key = func(r analysis.OverviewRow) float64 {
			if r.CPUVsBaseline.Valid() {
				return r.CPUVsBaseline.Est
			}
			return math.Inf(1)
		}
	}
	best := rs[0]
	for _, r := range rs[1:] {
		if key(r) < key(best) {
			best = r
		}
	}
	return best
}

func events(n int) string {
	if n == 1 {
		return "one event"
	}
	return fmt.Sprintf("%d events", n)
}

// stalePhrase states the staleness of one class with its resolution.
func stalePhrase(s analysis.Staleness, c analysis.EventClass) string {
	what := map[analysis.EventClass]string{analysis.ClassAPISelf: "API changes", analysis.ClassAPIOther: "API changes from another process",
		analysis.ClassManualEdit: "hand edits", analysis.ClassRestore: "cp -p restores"}[c]
	spacing := ""
	if s.SpacingMS > 0 {
		spacing = ", probes ≤ " + fmtMSRound(s.SpacingMS) + " apart"
	}
	if s.FirstProbe {
		return fmt.Sprintf("%s rejected at the next probe (%s%s)", what, events(s.N), spacing)
	}
	return fmt.Sprintf("%s: %d requests accepted after the change, rejected for good after at most %s against a bound of %s (%s%s)",
		what, s.AcceptedAfter, fmtMS(s.WorstMS), fmtBound(s), events(s.N), spacing)
}

// costPhrase states a verifier's hit path and HTTP CPU with intervals.
func costPhrase(r analysis.OverviewRow) string {
	var parts []string
	if b := r.HitNS; b.N > 0 {
		parts = append(parts, "hit path "+fmtBenchFull(b))
	} else {
		parts = append(parts, "hit path not measured (no microbenchmarks in the run dir)")
	}
	if iv := r.CPUVsBaseline; iv.Valid() {
		parts = append(parts, fmt.Sprintf("CPU/request %s uncached (%s)", analysis.FormatRatio(iv), rounds(iv)))
	} else {
		parts = append(parts, "CPU per request not measured")
	}
	return strings.Join(parts, ", ")
}

// shortCost is costPhrase for a comparison: the numbers with their
// intervals, without repeating the words.
func shortCost(r analysis.OverviewRow) string {
	hit, cpu := "—", "—"
	if r.HitNS.N > 0 {
		hit = fmtBenchFull(r.HitNS)
	}
	if r.CPUVsBaseline.Valid() {
		cpu = analysis.FormatRatio(r.CPUVsBaseline)
	}
	return hit + ", " + cpu
}

// fmtBenchFull is a hit path with its interval and n, for sentences.
func fmtBenchFull(b analysis.Bench) string {
	if b.HasInterval() {
		return fmt.Sprintf("%s [%s] (n=%d)", fmtNS(b.Median), fmtNSRange(b.Lo, b.Hi), b.N)
	}
	return fmt.Sprintf("%s (n=%d, no 95 %% CI)", fmtNS(b.Median), b.N)
}

// httpCostItem says whether HTTP CPU per request separates the cached
// verifiers: the range of their ratios to uncached and whether all their
// intervals share a point.
func httpCostItem(ov analysis.Overview) cell {
	c := cell{{Text: "Cost over HTTP: ", Strong: true}}
	var ivs []analysis.Interval
	var names []string
	for _, r := range cached(ov) {
		if r.CPUVsBaseline.Valid() {
			ivs = append(ivs, r.CPUVsBaseline)
			names = append(names, r.Verifier)
		}
	}
	if len(ivs) == 0 {
		return append(c, span{Text: "not answered — no CPU per request was measured against uncached in " + orDash(ov.Scenario) + "."})
	}
	lo, hi := 0, 0
	maxLo, minHi := math.Inf(-1), math.Inf(1)
	ranged := true
	for i, iv := range ivs {
		if iv.Est < ivs[lo].Est {
			lo = i
		}
		if iv.Est > ivs[hi].Est {
			hi = i
		}
		if !iv.HasRange() {
			ranged = false
			continue
		}
		maxLo, minHi = math.Max(maxLo, iv.Lo), math.Min(minHi, iv.Hi)
	}
	s := fmt.Sprintf("the %d cached verifiers cost %s (%s) to %s (%s) of uncached's CPU per request in %s (%s)",
		len(ivs), analysis.FormatRatio(ivs[lo]), names[lo], analysis.FormatRatio(ivs[hi]), names[hi], ov.Scenario, rounds(ivs[lo]))
	switch {
	case !ranged:
		s += "; with a single round there is no interval to tell them apart."
	case maxLo <= minHi:
		s += "; all their intervals overlap: the HTTP stack sets the cost, staleness separates them."
	default:
		s += "; their intervals do not all overlap."
	}
	return append(c, span{Text: s})
}

// peerItem compares the peer (Kubernetes' token cache) with the cheapest
// PBS stage and the cheapest of ours.
func peerItem(ov analysis.Overview) cell {
	c := cell{{Text: "The peer: ", Strong: true}}
	var peer *analysis.OverviewRow
	best := map[impl.Family][]analysis.OverviewRow{}
	for _, r := range cached(ov) {
		fam := r.Family
		if fam == "" && r.Verifier == "k8s" {
			fam = impl.FamilyPeer
		}
		if fam == impl.FamilyPeer && peer == nil {
			r := r
			peer = &r
			continue
		}
		best[fam] = append(best[fam], r)
	}
	if peer == nil {
		return append(c, span{Text: "not answered — no peer verifier (k8s) ran in this suite."})
	}
	c = append(c, span{Text: peer.Verifier, Code: true}, span{Text: " (Kubernetes' token cache): " + costPhrase(*peer)})
	for _, fam := range []impl.Family{impl.FamilyPBS, impl.FamilyOurs} {
		if len(best[fam]) == 0 {
			continue
		}
		b := cheapest(best[fam])
		c = append(c, span{Text: fmt.Sprintf("; %s cheapest, ", map[impl.Family]string{impl.FamilyPBS: "PBS's", impl.FamilyOurs: "our"}[fam])},
			span{Text: b.Verifier, Code: true}, span{Text: ": " + shortCost(b)})
	}
	if s := peer.Staleness[analysis.ClassManualEdit]; s.N > 0 {
		c = append(c, span{Text: "; it keeps a cached secret for its success TTL (" + stalePhrase(s, analysis.ClassManualEdit) + ")"})
	}
	return append(c, span{Text: "."})
}

// doubleRotationItem answers whether seed 002's double rotation
// reproduces in the cluster experiment, per strategy over its trials with
// the exact (Clopper–Pearson) interval.
func doubleRotationItem(f *results.File) cell {
	c := cell{{Text: "Double rotation (cluster, seed 002): ", Strong: true}}
	type agg struct{ k, n int }
	by := map[string]*agg{}
	var order, skipped []string
	for _, sc := range analysis.ClusterScenarios(f) {
		for _, r := range analysis.ClusterTable(f, sc) {
			if r.Skipped != "" {
				skipped = append(skipped, r.Verifier+": "+r.Skipped)
				continue
			}
			if by[r.Verifier] == nil {
				by[r.Verifier] = &agg{}
				order = append(order, r.Verifier)
			}
			by[r.Verifier].k += r.DoubleRotationTrials
			by[r.Verifier].n += r.Trials
		}
	}
	if len(order) == 0 {
		if len(skipped) > 0 {
			return append(c, span{Text: "not answered — the cluster cells were skipped (" + strings.Join(skipped, "; ") + ")."})
		}
		return append(c, span{Text: "not answered — the cluster scenario did not run in this suite (the quick suite skips it)."})
	}
	var yes, no []string
	for _, v := range order {
		p := analysis.ClopperPearson(by[v].k, by[v].n)
		if p.N == 0 {
			continue
		}
		s := fmt.Sprintf("%s in %d of %d trials [%s–%s, 95 %% CI]", v, p.K, p.N, fmtPct(p.Lo), fmtPct(p.Hi))
		if p.K > 0 {
			yes = append(yes, s)
		} else {
			no = append(no, s)
		}
	}
	switch {
	case len(yes) == 0 && len(no) == 0:
		return append(c, span{Text: "not answered — the cluster cells recorded no trials."})
	case len(yes) == 0:
		c = append(c, span{Text: "does not reproduce: " + strings.Join(no, "; ") + "."})
	default:
		c = append(c, span{Text: "reproduces with " + strings.Join(yes, "; ")})
		if len(no) > 0 {
			c = append(c, span{Text: "; not with " + strings.Join(no, "; ")})
		}
		c = append(c, span{Text: "."})
	}
	return c
}

// rounds is an interval's n, briefly; the coverage is in the scenario file.
func rounds(iv analysis.Interval) string {
	switch {
	case !iv.HasRange():
		return "one round, no interval"
	case iv.Paired:
		return fmt.Sprintf("%d rounds, %.0f %% CI", iv.N, 100*iv.Coverage)
	}
	return fmt.Sprintf("%d repeats, %.0f %% CI", iv.N, 100*iv.Coverage)
}
