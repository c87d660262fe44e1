package plotting

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/results"
)

// latencyPercentiles are the panels of the latency plot.
var latencyPercentiles = []struct {
	label string
	get   func(results.Latency) float64
}{
	{"p50", func(l results.Latency) float64 { return l.P50 }},
	{"p90", func(l results.Latency) float64 { return l.P90 }},
	{"p99", func(l results.Latency) float64 { return l.P99 }},
	{"p99.9", func(l results.Latency) float64 { return l.P999 }},
}

// latencyFigs draws p50/p90/p99/p99.9 against offered rate, one panel per
// percentile, one line per verifier (median over repeats). A scenario
// that ran one rate gets grouped bars instead (see latencyBars): a line
// through one point is a dot on an axis the plotter has to invent.
func latencyFigs(f *results.File, scenario string) ([]figure, error) {
	runs := analysis.ScenarioRuns(f, scenario)
	runs = analysis.WithConfig(runs, analysis.Primary(runs))
	vs := analysis.Verifiers(runs)
	rates := map[float64]bool{}
	for _, v := range vs {
		for _, pt := range analysis.LoadPoints(runs, v) {
			rates[pt.OfferedRPS] = true
		}
	}
	if len(rates) == 1 {
		return latencyBars(runs, vs, scenario)
	}
	var plots [][]*plot.Plot
	leg := newLegend()
	drawn := false
	tileW, tileH := plotW*10/7/2, 7.5*vg.Inch/2
	for i, pc := range latencyPercentiles {
		p := newPlot(pc.label+" latency — "+scenario, "offered rate (requests/s)", "ms (median over repeats)")
		var ys, xs []float64
		for _, v := range vs {
			var xys plotter.XYs
			for _, pt := range analysis.LoadPoints(runs, v) {
				s := analysis.Of(pt.Runs, func(r results.Run) float64 { return pc.get(r.Latency) / 1000 })
				if s.N == 0 || s.Median <= 0 {
					continue // a log axis cannot show zero
				}
				xys = append(xys, plotter.XY{X: pt.OfferedRPS, Y: s.Median})
				ys, xs = append(ys, s.Median), append(xs, pt.OfferedRPS)
			}
			if len(xys) == 0 {
				continue
			}
			drawn = true
			l, sc, err := plotter.NewLinePoints(xys)
			if err != nil {
				return nil, fmt.Errorf("latency plot %s: %w", scenario, err)
			}
			styleLine(l, sc, v)
			p.Add(l, sc)
			if i == 0 {
				leg.Add(v, l, sc)
			}
		}
		if spansDecades(ys) {
			logAxis(&p.Y, minOf(ys), maxOf(ys))
		} else if len(ys) > 0 {
			p.Y.Min, p.Y.Max = 0, maxOf(ys)*1.08
		}
		autoLogX(p, xs)
		fitTexts(p, tileW, tileH)
		if i%2 == 0 {
			plots = append(plots, nil)
		}
		plots[len(plots)-1] = append(plots[len(plots)-1], p)
	}
	if !drawn {
		return nil, nil
	}
	tiles := draw.Tiles{Rows: 2, Cols: 2, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	lw := legendWidth(leg)
	w, h := 2*tileW, 2*tileH
	return []figure{{name: "latency-" + results.Slug(scenario), w: w + lw, h: h, draw: func(dc draw.Canvas) {
		cs := plot.Align(plots, tiles, draw.Crop(dc, 0, -lw, 0, 0))
		for r := range plots {
			for c := range plots[r] {
				drawPlot(cs[r][c], plots[r][c])
			}
		}
		leg.Draw(draw.Crop(dc, dc.Max.X-dc.Min.X-lw+legendGap, 0, 0, -vg.Millimeter*8))
	}}}, nil
}

// latencyBars draws a one-rate scenario's percentiles as grouped bars:
// one group per percentile, one bar per verifier (median over repeats,
// min–max interval bars), log axis when they span decades.
func latencyBars(runs []results.Run, vs []string, scenario string) ([]figure, error) {
	b := &bars{width: vg.Points(math.Max(3, math.Min(14, 360/float64(len(vs)*len(latencyPercentiles)))))}
	leg := newLegend()
	rate := 0.0
	var spreads []analysis.Spread
	for j, v := range vs {
		pts := analysis.LoadPoints(runs, v)
		if len(pts) == 0 {
			continue
		}
		rate = pts[0].OfferedRPS
		off := b.width * vg.Length(float64(j)-float64(len(vs)-1)/2)
		one := &bars{width: b.width}
		for i, pc := range latencyPercentiles {
			s := analysis.Of(pts[0].Runs, func(r results.Run) float64 { return pc.get(r.Latency) / 1000 })
			if s.N == 0 || s.Median <= 0 {
				continue
			}
			b.add(float64(i), off, s, VerifierColor(v))
			one.add(float64(i), off, s, VerifierColor(v))
			spreads = append(spreads, s)
		}
		if len(one.items) > 0 {
			leg.Add(v, one)
		}
	}
	if len(b.items) == 0 {
		return nil, nil
	}
	p := newPlot(fmt.Sprintf("Latency at %s requests/s — %s", fmtNum(rate), scenario), "percentile", "ms "+nNote(spreads))
	p.Add(b)
	b.frame(p, len(latencyPercentiles))
	names := make([]string, len(latencyPercentiles))
	for i, pc := range latencyPercentiles {
		names[i] = pc.label
	}
	nominalX(p, names, plotW)
	return []figure{framed("latency-"+results.Slug(scenario), p, leg, plotW, plotH)}, nil
}
