package plotting

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/results"
)

// tokensFigs draws sustained throughput against the number of tokens in
// token.shadow, one line per verifier (median, min–max interval bars);
// skipped unless the scenario ran at least two token counts.
func tokensFigs(f *results.File, scenario string) ([]figure, error) {
	runs := analysis.ScenarioRuns(f, scenario)
	counts := distinct(runs, func(r results.Run) (float64, bool) { return float64(r.Tokens), r.Tokens > 0 })
	if len(counts) < 2 {
		return nil, nil
	}
	p := newPlot("Throughput against token count — "+scenario, "tokens in token.shadow", "sustained requests/s (median, bars min–max)")
	leg := newLegend()
	var ys []float64
	for _, v := range analysis.Verifiers(runs) {
		var xys plotter.XYs
		var errs plotter.YErrors
		for _, n := range counts {
			var sel []results.Run
			for _, r := range analysis.ByVerifier(runs, v) {
				if float64(r.Tokens) == n {
					sel = append(sel, r)
				}
			}
			s, _ := analysis.KneeOf(sel)
			if s.N == 0 {
				continue
			}
			xys = append(xys, plotter.XY{X: n, Y: s.Median})
			errs = append(errs, struct{ Low, High float64 }{s.Median - s.Min, s.Max - s.Median})
			ys = append(ys, s.Median)
		}
		if err := addSeries(p, leg, v, xys, errs); err != nil {
			return nil, fmt.Errorf("tokens plot %s: %w", scenario, err)
		}
	}
	if len(ys) == 0 {
		return nil, nil
	}
	autoLogX(p, counts)
	autoY(p, ys)
	return []figure{framed("tokens-"+results.Slug(scenario), p, leg, plotW, plotH)}, nil
}

// fallbackFigs draws the fallback rate (Fallback / (Fast+Slow)) against
// client concurrency, one line per verifier; skipped unless the scenario
// ran at least two concurrency levels with verifier counters.
func fallbackFigs(f *results.File, scenario string) ([]figure, error) {
	var runs []results.Run
	for _, r := range analysis.ScenarioRuns(f, scenario) {
		if !analysis.IsControl(r.Verifier) && r.Concurrency > 0 && !math.IsNaN(analysis.FallbackRate(r.VerifierStats)) {
			runs = append(runs, r)
		}
	}
	levels := distinct(runs, func(r results.Run) (float64, bool) { return float64(r.Concurrency), true })
	if len(levels) < 2 {
		return nil, nil
	}
	p := newPlot("Fast-path fallback rate against concurrency — "+scenario, "client concurrency", "fallback / (fast + slow) (median, bars min–max)")
	leg := newLegend()
	var ys []float64
	for _, v := range analysis.Verifiers(runs) {
		var xys plotter.XYs
		var errs plotter.YErrors
		for _, c := range levels {
			var rates []float64
			for _, r := range analysis.ByVerifier(runs, v) {
				if float64(r.Concurrency) == c {
					rates = append(rates, analysis.FallbackRate(r.VerifierStats))
				}
			}
			s := analysis.SpreadOf(rates)
			if s.N == 0 {
				continue
			}
			xys = append(xys, plotter.XY{X: c, Y: s.Median})
			errs = append(errs, struct{ Low, High float64 }{s.Median - s.Min, s.Max - s.Median})
			ys = append(ys, s.Max)
		}
		if err := addSeries(p, leg, v, xys, errs); err != nil {
			return nil, fmt.Errorf("fallback plot %s: %w", scenario, err)
		}
	}
	autoLogX(p, levels)
	// Rates can be 0, which a log axis cannot show: linear from 0.
	p.Y.Min, p.Y.Max = 0, math.Max(maxOf(append(ys, 0))*1.08, 1e-3)
	return []figure{framed("fallback-"+results.Slug(scenario), p, leg, plotW, plotH)}, nil
}

// autoY frames the Y axis of positive values: log when they span more
// than logSpan, else linear from 0.
func autoY(p *plot.Plot, ys []float64) {
	if spansDecades(ys) && minOf(ys) > 0 {
		logAxis(&p.Y, minOf(ys), maxOf(ys))
		return
	}
	p.Y.Min = 0
	if m := maxOf(ys); m > 0 {
		p.Y.Max = math.Max(p.Y.Max, m*1.08)
	}
}

func styleLine(l *plotter.Line, sc *plotter.Scatter, v string) {
	st := StyleOf(v)
	l.Color = st.Color
	l.Width = vg.Points(1.5)
	l.Dashes = st.Dashes
	sc.Color = st.Color
	sc.Shape = st.Shape
	sc.Radius = vg.Points(2.5)
}

// addSeries adds one verifier's line with points and, when repeats spread,
// error bars; its legend entry goes to leg.
func addSeries(p *plot.Plot, leg *plot.Legend, v string, xys plotter.XYs, errs plotter.YErrors) error {
	if len(xys) == 0 {
		return nil
	}
	l, sc, err := plotter.NewLinePoints(xys)
	if err != nil {
		return err
	}
	styleLine(l, sc, v)
	p.Add(l, sc)
	leg.Add(v, l, sc)
	spread := false
	for _, e := range errs {
		spread = spread || e.Low > 0 || e.High > 0
	}
	if !spread {
		return nil
	}
	eb, err := plotter.NewYErrorBars(errPoints{xys, errs})
	if err != nil {
		return err
	}
	eb.Color = VerifierColor(v)
	p.Add(eb)
	return nil
}

type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// distinct returns the sorted distinct values of key over runs.
func distinct(runs []results.Run, key func(results.Run) (float64, bool)) []float64 {
	seen := map[float64]bool{}
	var out []float64
	for _, r := range runs {
		if k, ok := key(r); ok && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Float64s(out)
	return out
}
