package plotting

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/results"
)

// stalenessFigs draws, per revocation event of the scenario, the
// cumulative number of accepted old-secret probes against time since the
// event, one line per verifier (and per repeat of the event).
func stalenessFigs(f *results.File, scenario string) ([]figure, error) {
	var events []string
	byEvent := map[string][]results.Revocation{}
	for _, rv := range f.Revocations {
		if rv.Scenario != scenario || len(rv.Timeline) == 0 {
			continue
		}
		if _, ok := byEvent[rv.Event]; !ok {
			events = append(events, rv.Event)
		}
		byEvent[rv.Event] = append(byEvent[rv.Event], rv)
	}
	var out []figure
	for _, ev := range events {
		revs := byEvent[ev]
		sort.SliceStable(revs, func(a, b int) bool { return analysis.VerifierLess(revs[a].Verifier, revs[b].Verifier) })
		p := newPlot("Old secret accepted around "+ev+" — "+scenario,
			"time since event (ms)", "accepted old-secret requests (cumulative)")
		leg := newLegend()
		legended := map[string]bool{}
		lo, hi, top := 0.0, 0.0, 1.0
		for _, rv := range revs {
			pts := append([]results.ProbePoint(nil), rv.Timeline...)
			sort.SliceStable(pts, func(a, b int) bool { return pts[a].TMS < pts[b].TMS })
			xys := make(plotter.XYs, 0, len(pts)+1)
			xys = append(xys, plotter.XY{X: pts[0].TMS, Y: 0})
			n := 0
			for _, pt := range pts {
				if pt.Accepted {
					n++
				}
				xys = append(xys, plotter.XY{X: pt.TMS, Y: float64(n)})
			}
			lo, hi, top = math.Min(lo, pts[0].TMS), math.Max(hi, pts[len(pts)-1].TMS), math.Max(top, float64(n))
			l, err := plotter.NewLine(xys)
			if err != nil {
				return nil, fmt.Errorf("staleness plot %s/%s: %w", scenario, ev, err)
			}
			l.StepStyle = plotter.PostStep
			l.Color = VerifierColor(rv.Verifier)
			l.Width = vg.Points(1.5)
			l.Dashes = StyleOf(rv.Verifier).Dashes
			p.Add(l)
			if !legended[rv.Verifier] {
				legended[rv.Verifier] = true
				label := rv.Verifier
				if !rv.Pass {
					label += " (FAIL)"
				}
				leg.Add(label, l)
			}
		}
		// The event itself, as a vertical rule at t = 0.
		ev0, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 0, Y: top * 1.05}})
		if err != nil {
			return nil, fmt.Errorf("staleness plot %s/%s: %w", scenario, ev, err)
		}
		ev0.Color = color.Black
		ev0.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(ev0)
		leg.Add("event", ev0)
		p.X.Min, p.X.Max = math.Min(lo, 0), math.Max(hi, 0)
		p.Y.Min, p.Y.Max = 0, top*1.05
		out = append(out, framed("staleness-"+results.Slug(scenario)+"-"+results.Slug(ev), p, leg, plotW, plotH))
	}
	return out, nil
}
