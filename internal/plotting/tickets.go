package plotting

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/results"
)

// ClusterPlots draws ClusterTimelines for every cluster scenario of f and
// returns the plot names per scenario (All covers the load scenarios;
// cluster scenarios have no runs).
func ClusterPlots(dir string, f *results.File) (map[string][]string, error) {
	out := map[string][]string{}
	for _, s := range analysis.ClusterScenarios(f) {
		names, err := ClusterTimelines(dir, f, s)
		if err != nil {
			return nil, err
		}
		if len(names) > 0 {
			out[s] = names
		}
	}
	return out, nil
}

// ClusterTimelines draws, per event and attr_timeout of a cluster
// scenario, the fraction of valid tickets rejected over time, one line
// per strategy (summed over trials), with the nodes' rotation check at
// t = 0 as a vertical rule, like the staleness plots. Cells without a
// timeline (skipped) draw nothing.
func ClusterTimelines(dir string, f *results.File, scenario string) ([]string, error) {
	return build(dir, f, scenario, clusterFigs)
}

func clusterFigs(f *results.File, scenario string) ([]figure, error) {
	type key struct {
		event string
		attr  int64
	}
	var keys []key
	byKey := map[key][]analysis.ClusterRow{}
	for _, row := range analysis.ClusterTable(f, scenario) {
		if len(row.Timeline) == 0 {
			continue
		}
		k := key{row.Event, row.AttrTimeoutMs}
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], row)
	}
	var out []figure
	for _, k := range keys {
		p := newPlot(fmt.Sprintf("Valid tickets refused around %s, attr_timeout %s — %s (before t=0: tickets signed before the touch)", k.event, fmtAttr(k.attr), scenario),
			"time since the nodes' rotation check (ms)", "valid tickets refused (fraction of requests in bucket)")
		leg := newLegend()
		lo, hi := 0.0, 0.0
		for _, row := range byKey[k] {
			pts := slices.Clone(row.Timeline)
			slices.SortFunc(pts, func(a, b results.ClusterPoint) int { return int(a.TMs - b.TMs) })
			var xys plotter.XYs
			for _, pt := range pts {
				if pt.Total == 0 {
					continue
				}
				xys = append(xys, plotter.XY{X: float64(pt.TMs), Y: float64(pt.RejectedValid) / float64(pt.Total)})
			}
			if len(xys) == 0 {
				continue
			}
			lo, hi = math.Min(lo, xys[0].X), math.Max(hi, xys[len(xys)-1].X)
			l, err := plotter.NewLine(xys)
			if err != nil {
				return nil, fmt.Errorf("cluster plot %s: %w", scenario, err)
			}
			l.StepStyle = plotter.PostStep
			l.Color = VerifierColor(row.Verifier)
			l.Width = vg.Points(1.5)
			l.Dashes = StyleOf(row.Verifier).Dashes
			p.Add(l)
			leg.Add(fmt.Sprintf("%s: %s, %s", row.Verifier, plural(row.Trials, "trial"), plural(row.DoubleRotationTrials, "double rotation")), l)
		}
		rule, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 0, Y: 1}})
		if err != nil {
			return nil, fmt.Errorf("cluster plot %s: %w", scenario, err)
		}
		rule.Color = color.Black
		rule.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(rule)
		leg.Add("rotation check", rule)
		// The touch (key aged) precedes the check: refusals between the two
		// are PVE's age range for a key past its lifetime, not a fault, so
		// the reader must see where that window starts.
		if at, n := meanEventMs(byKey[k]); n > 0 {
			touch, err := plotter.NewLine(plotter.XYs{{X: at, Y: 0}, {X: at, Y: 1}})
			if err != nil {
				return nil, fmt.Errorf("cluster plot %s: %w", scenario, err)
			}
			touch.Color = color.Gray{Y: 110}
			touch.Dashes = []vg.Length{vg.Points(1), vg.Points(3)}
			p.Add(touch)
			leg.Add(fmt.Sprintf("key aged (touch), mean over %s", plural(n, "trial")), touch)
			lo = math.Min(lo, at)
		}
		p.X.Min, p.X.Max = lo, math.Max(hi, 0)
		p.Y.Min, p.Y.Max = 0, 1.05
		out = append(out, framed(ClusterPlotName(scenario, k.event, k.attr), p, leg, plotW, plotH))
	}
	return out, nil
}

// meanEventMs is the mean touch offset (ms, relative to the check) over
// every trial of rows, and the number of trials it rests on.
func meanEventMs(rows []analysis.ClusterRow) (float64, int) {
	sum, n := 0.0, 0
	for _, r := range rows {
		for _, ms := range r.EventMsPerTrial {
			sum += float64(ms)
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), n
}

// plural is "1 trial", "2 trials".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// ClusterPlotName is the name (without extension) of the timeline plot of
// one event and attr_timeout, so the report can place it next to its
// table rows.
func ClusterPlotName(scenario, event string, attrMs int64) string {
	return fmt.Sprintf("cluster-%s-%s-attr%dms", results.Slug(scenario), results.Slug(event), attrMs)
}

func fmtAttr(ms int64) string {
	if ms%1000 == 0 {
		return fmt.Sprintf("%d s", ms/1000)
	}
	return fmt.Sprintf("%d ms", ms)
}
