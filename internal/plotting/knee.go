package plotting

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/results"
)

// barWidth is the width of one bar of a one-bar-per-verifier chart.
const barWidth = vg.Length(30)

// kneeFigs draws the sustained throughput per verifier of one scenario as
// bars (median over repeats, min–max interval bars) with the no-auth
// control and the knee target (analysis.KneeTarget × control) as
// reference lines. Only knee searches are drawn: a fixed-rate scenario's
// best achieved rate is its offered rate, so its bars would show the
// scenario file, not the verifiers; such a scenario gets no knee plot.
func kneeFigs(f *results.File, scenario string) ([]figure, error) {
	knees := slices.DeleteFunc(analysis.Knees(analysis.ScenarioRuns(f, scenario)), func(k analysis.KneeStat) bool { return !k.FromSearch })
	if len(knees) == 0 {
		return nil, nil
	}
	names := make([]string, len(knees))
	spreads := make([]analysis.Spread, len(knees))
	b := &bars{width: barWidth}
	var ctrl float64
	for i, k := range knees {
		names[i], spreads[i] = k.Verifier, k.RPS
		if k.Verifier == results.ControlVerifier {
			ctrl = k.RPS.Median
		}
		b.add(float64(i), 0, k.RPS, VerifierColor(k.Verifier))
	}
	p := newPlot("Sustained throughput — "+scenario, "", "sustained requests/s "+nNote(spreads))
	p.Add(b)
	b.frame(p, len(knees))
	leg := newLegend()
	if ctrl > 0 {
		xs := [2]float64{-0.5, float64(len(knees)) - 0.5}
		for _, ref := range []struct {
			label string
			y     float64
			dash  []vg.Length
		}{
			{"no-auth control", ctrl, []vg.Length{vg.Points(6), vg.Points(3)}},
			{fmt.Sprintf("%.2f × control", analysis.KneeTarget), analysis.KneeTarget * ctrl, []vg.Length{vg.Points(2), vg.Points(2)}},
		} {
			l, err := plotter.NewLine(plotter.XYs{{X: xs[0], Y: ref.y}, {X: xs[1], Y: ref.y}})
			if err != nil {
				return nil, fmt.Errorf("knee plot %s: %w", scenario, err)
			}
			l.Color = color.Black
			l.Dashes = ref.dash
			p.Add(l)
			leg.Add(ref.label, l)
		}
		p.Y.Max = math.Max(p.Y.Max, ctrl*1.08)
	}
	nominalX(p, names, plotW)
	return []figure{framed("knee-"+results.Slug(scenario), p, leg, plotW, plotH)}, nil
}

// cpuCostFigs draws server CPU-seconds per 1000 requests per verifier at
// its reference load point (analysis.RefPoint), median bars with min–max
// interval bars over repeats; log axis when the verifiers span decades
// (uncached against the caches), so the cached bars stay readable.
func cpuCostFigs(f *results.File, scenario string) ([]figure, error) {
	runs := analysis.ScenarioRuns(f, scenario)
	var names []string
	var spreads []analysis.Spread
	b := &bars{width: barWidth}
	for _, v := range analysis.Verifiers(runs) {
		pt, ok := analysis.RefPoint(runs, v)
		if !ok {
			continue
		}
		var cost []float64
		for _, r := range pt.Runs {
			if r.CPUSecondsPer1kReq > 0 {
				cost = append(cost, r.CPUSecondsPer1kReq)
			}
		}
		s := analysis.SpreadOf(cost)
		if s.N == 0 {
			continue
		}
		b.add(float64(len(names)), 0, s, VerifierColor(v))
		names = append(names, v)
		spreads = append(spreads, s)
	}
	if len(names) == 0 {
		return nil, nil
	}
	p := newPlot("Server CPU-seconds per 1000 requests — "+scenario, "", "CPU-s / 1000 req "+nNote(spreads))
	p.Add(b)
	b.frame(p, len(names))
	nominalX(p, names, plotW)
	return []figure{framed("cpucost-"+results.Slug(scenario), p, nil, plotW, plotH)}, nil
}

// nNote says how many repeats stand behind medians and their bars:
// "(median, bars min–max; n = 3)" or "n = 2–3" when verifiers differ.
func nNote(ss []analysis.Spread) string {
	lo, hi := math.MaxInt, 0
	for _, s := range ss {
		if s.N > 0 {
			lo, hi = min(lo, s.N), max(hi, s.N)
		}
	}
	if hi == 0 {
		return ""
	}
	n := strconv.Itoa(lo)
	if hi != lo {
		n += "–" + strconv.Itoa(hi)
	}
	return "(median, bars min–max; n = " + n + ")"
}

// cpuShareFigs draws stacked bars of the hot-path CPU buckets per
// verifier at its reference load point (see analysis.RefPoint), each
// bucket's median share over repeats, normalised to sum to 1.
func cpuShareFigs(f *results.File, scenario string) ([]figure, error) {
	runs := analysis.ScenarioRuns(f, scenario)
	var names []string
	var buckets [4]plotter.Values
	nmin, nmax := math.MaxInt, 0
	for _, v := range analysis.Verifiers(runs) {
		pt, ok := analysis.RefPoint(runs, v)
		if !ok {
			continue
		}
		var sampled []results.Run
		for _, r := range pt.Runs {
			if r.CPUShare.Samples > 0 {
				sampled = append(sampled, r)
			}
		}
		if len(sampled) == 0 {
			continue
		}
		med := [4]float64{
			analysis.Of(sampled, func(r results.Run) float64 { return r.CPUShare.Crypt }).Median,
			analysis.Of(sampled, func(r results.Run) float64 { return r.CPUShare.ShadowRead }).Median,
			analysis.Of(sampled, func(r results.Run) float64 { return r.CPUShare.Stat }).Median,
			analysis.Of(sampled, func(r results.Run) float64 { return r.CPUShare.Other }).Median,
		}
		sum := med[0] + med[1] + med[2] + med[3]
		if sum <= 0 {
			continue
		}
		names = append(names, v)
		nmin, nmax = min(nmin, len(sampled)), max(nmax, len(sampled))
		for i := range med {
			buckets[i] = append(buckets[i], med[i]/sum) // medians need not sum to 1
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	n := strconv.Itoa(nmin)
	if nmax != nmin {
		n += "–" + strconv.Itoa(nmax)
	}
	p := newPlot("Server CPU share by hot-path bucket — "+scenario, "", "share of CPU samples (median; n = "+n+")")
	leg := newLegend()
	var below *plotter.BarChart
	for i, label := range []string{"crypt", "shadow_read", "stat", "other"} {
		b, err := plotter.NewBarChart(buckets[i], barWidth)
		if err != nil {
			return nil, fmt.Errorf("cpu share plot %s: %w", scenario, err)
		}
		b.Color = bucketColors[i]
		b.LineStyle.Width = 0
		if below != nil {
			b.StackOn(below)
		}
		below = b
		p.Add(b)
		leg.Add(label, b)
	}
	nominalX(p, names, plotW)
	p.X.Min, p.X.Max = -0.6, float64(len(names))-0.4
	p.Y.Min, p.Y.Max = 0, 1
	return []figure{framed("cpushare-"+results.Slug(scenario), p, leg, plotW, plotH)}, nil
}

// resetsFigs draws cache resets per server process of multi-process runs,
// grouped by process, one bar per verifier (its highest offered rate,
// median over repeats).
func resetsFigs(f *results.File, scenario string) ([]figure, error) {
	var runs []results.Run
	for _, r := range analysis.ScenarioRuns(f, scenario) {
		if len(r.PerProcess) > 1 {
			runs = append(runs, r)
		}
	}
	vs := analysis.Verifiers(runs)
	if len(vs) == 0 {
		return nil, nil
	}
	nproc := 0
	for _, r := range runs {
		nproc = max(nproc, len(r.PerProcess))
	}
	p := newPlot("Cache resets per server process — "+scenario, "server process", "resets (median over repeats)")
	leg := newLegend()
	width := vg.Points(math.Max(4, math.Min(24, 300/float64(nproc*len(vs)))))
	for i, v := range vs {
		pts := analysis.LoadPoints(runs, v)
		top := pts[len(pts)-1]
		vals := make(plotter.Values, nproc)
		for proc := range nproc {
			var xs []float64
			for _, r := range top.Runs {
				if proc < len(r.PerProcess) {
					xs = append(xs, float64(r.PerProcess[proc].Resets))
				}
			}
			vals[proc] = analysis.SpreadOf(xs).Median
		}
		b, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, fmt.Errorf("resets plot %s: %w", scenario, err)
		}
		b.Color = VerifierColor(v)
		b.LineStyle.Width = 0
		b.Offset = width * vg.Length(float64(i)-float64(len(vs)-1)/2)
		p.Add(b)
		leg.Add(v, b)
	}
	labels := make([]string, nproc)
	for i := range labels {
		labels[i] = strconv.Itoa(i)
	}
	nominalX(p, labels, plotW)
	p.X.Min, p.X.Max = -0.6, float64(nproc)-0.4
	p.Y.Min = 0
	if p.Y.Max <= 0 {
		p.Y.Max = 1
	}
	p.Y.Max *= 1.08
	return []figure{framed("resets-"+results.Slug(scenario), p, leg, plotW, plotH)}, nil
}
