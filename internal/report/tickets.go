package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/plotting"
	"github.com/authbench/authbench/internal/results"
)

// ticketSections adds, after the token scenarios, one table per ticket
// load scenario (each strategy's CPU per request and knee against the
// no-auth control of the same rounds, and where its CPU went by
// impl/ticket phase) and one per cluster scenario (strategy ×
// attr_timeout: trials, rotations, double rotations with their exact
// interval, disagreement, rejected valid tickets), each followed by its
// timeline plots (plotting.ClusterPlots' names for that scenario).
func ticketSections(f *results.File, plotsDir string, clusterPlots map[string][]string) (section, bool) {
	tickets, clusters := analysis.TicketScenarios(f), analysis.ClusterScenarios(f)
	if len(tickets) == 0 && len(clusters) == 0 {
		return section{}, false
	}
	d := &document{}
	for _, sc := range tickets {
		ticketTable(d, sc, analysis.TicketTable(f, sc))
	}
	for _, sc := range clusters {
		clusterTable(d, sc, analysis.ClusterTable(f, sc))
		for _, name := range clusterPlots[sc] {
			d.image(plotsDir, name, "rejected valid tickets over time: "+name)
		}
	}
	return section{Title: "Ticket key caches (PVEAuthCookie)", Blocks: d.Blocks}, true
}

func ticketTable(d *document, sc string, rows []analysis.TicketRow) {
	d.h(3, "Ticket strategies — "+sc)
	var out []cell2
	var cov analysis.Interval
	for _, r := range rows {
		knee := fmtSpread(r.Knee, fmtNum)
		if r.KneeCapped && r.Knee.N > 0 {
			knee += " (capped)"
		}
		out = append(out, cell2{
			{{Text: r.Verifier, Code: true}},
			txt(fmtSpread(r.CPUPer1k, fmtCPU)),
			txt(analysis.FormatRatio(r.CPUvsControl)),
			txt(knee),
			txt(analysis.FormatRatio(r.KneeVsControl)),
			txt(fmtTicketShare(r.Share)),
		})
		if r.CPUvsControl.HasRange() && !cov.HasRange() {
			cov = r.CPUvsControl
		}
	}
	d.table([]string{"strategy", "server CPU / request", "vs control", "knee (req/s)", "knee vs control", "CPU: verify / PEM / stat / other"}, out)
	d.pClass("note", txt("Median [min–max] over rounds; ratios to the no-auth control paired by round ("+analysis.FormatCoverage(cov)+
		"). CPU shares split the server profile by impl/ticket's pprof phase label."))
}

func fmtTicketShare(s *results.TicketCPUShare) string {
	if s == nil {
		return "—"
	}
	return strings.Join([]string{fmtPct(s.Verify), fmtPct(s.PEM), fmtPct(s.Stat), fmtPct(s.Other)}, " / ")
}

func clusterTable(d *document, sc string, rows []analysis.ClusterRow) {
	d.h(3, "Cluster double rotation — "+sc)
	var out []cell2
	for _, r := range rows {
		note := ""
		switch {
		case r.Skipped != "":
			note = "skipped: " + r.Skipped
		case r.FailedTrials > 0:
			note = fmt.Sprintf("failed trials: %d (errors in results.json)", r.FailedTrials)
		}
		double := "—"
		if r.Trials > 0 {
			p := r.DoubleRotationRate
			double = fmt.Sprintf("%d of %d [%s–%s]", p.K, p.N, fmtPct(p.Lo), fmtPct(p.Hi))
		}
		var dbl span
		dbl.Text = double
		if r.DoubleRotationTrials > 0 {
			dbl.Class = "fail"
		}
		out = append(out, cell2{
			{{Text: r.Verifier, Code: true}},
			txt(plottingAttr(r.AttrTimeoutMs)),
			txt(strconv.Itoa(r.Trials)),
			txt(fmtInts(r.RotationsPerTrial)),
			{dbl},
			txt(fmtCount(r.DisagreeTrials, r.Trials)),
			txt(fmtBeforeCheck(r.BeforeCheck)),
			txt(fmtRejected(r.RejectedValid, r.Total)),
			txt(fmtPeak(r)),
			txt(fmtCPU(r.CPUSecondsPer1kReq)),
			txt(orDash(note)),
		})
	}
	d.table([]string{"strategy", "attr_timeout", "trials", "rotations per trial (1 is correct)", "double rotations [95 % CI]", "nodes disagree", "refused between touch and check", "valid tickets refused after the check (signed after it)", "worst bucket", "node CPU / request", "note"}, out)
	d.pClass("note", txt("Each trial: fresh nodes, each with its own FUSE mount of one key directory; the key's mtime set to yesterday on all at once, then every node's rotation check. Intervals are exact (Clopper–Pearson) over trials."))
	d.pClass("note", txt("Between the touch and the check the tickets in use were signed just before the touch; a node that sees the aged key refuses those of the touch's second by PVE's age range (a key past its lifetime accepts only tickets signed before its expiry second) until it sees the rotation — faithful behaviour, counted apart. From t = 0 on the tickets were signed after the check; refusals there are a double rotation's."))
}

func plottingAttr(ms int64) string {
	if ms%1000 == 0 {
		return fmt.Sprintf("%d s", ms/1000)
	}
	return fmt.Sprintf("%d ms", ms)
}

func fmtInts(xs []int) string {
	if len(xs) == 0 {
		return "—"
	}
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

func fmtCount(k, n int) string {
	if n == 0 {
		return "—"
	}
	return fmt.Sprintf("%d of %d", k, n)
}

func fmtRejected(k, n int) string {
	if n == 0 {
		return "—"
	}
	return fmt.Sprintf("%s (%d of %d)", fmtPct(float64(k)/float64(n)), k, n)
}

// fmtBeforeCheck is the touch-to-check window's refusals and how many the
// age range made; "—" for files from before it was recorded.
func fmtBeforeCheck(w *results.ClusterWindow) string {
	if w == nil || w.Total == 0 {
		return "—"
	}
	return fmt.Sprintf("%s (%d by age range)", fmtRejected(w.RejectedValid, w.Total), w.RejectedAge)
}

func fmtPeak(r analysis.ClusterRow) string {
	if r.Total == 0 || math.IsNaN(r.PeakRejectedValidRatio) {
		return "—"
	}
	return fmtPct(r.PeakRejectedValidRatio)
}

// clusterPlotNames is plotting.ClusterPlotName for every cell with a
// timeline; the report's build uses plotting.ClusterPlots' answer, this
// is for tests that do not draw.
func clusterPlotNames(f *results.File, sc string) []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range analysis.ClusterTable(f, sc) {
		if n := plotting.ClusterPlotName(sc, r.Event, r.AttrTimeoutMs); len(r.Timeline) > 0 && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names
}
