package plotting

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/authbench/authbench/internal/analysis"
)

// tradeoffFloorMS keeps staleness of 0 (the next request sees the change)
// on the log axis.
const tradeoffFloorMS = 0.1

// TradePoint is one verifier on the trade-off chart.
type TradePoint struct {
	Verifier string
	// StaleMS is the worst measured staleness of file edits; Never when an
	// edit was never seen.
	StaleMS float64
	Never   bool
	// CostUS is server CPU per request in µs.
	CostUS float64
}

// TradePoints selects the chart's points: every verifier with both a
// per-request cost and a measured file-edit staleness, controls excluded.
func TradePoints(ov analysis.Overview) []TradePoint {
	var out []TradePoint
	for _, r := range ov.Rows {
		ms, never, ok := analysis.WorstFileEdit(r.Staleness)
		if analysis.IsControl(r.Verifier) || !ok || r.CPU.N == 0 || r.CPU.Median <= 0 {
			continue
		}
		// CPU-seconds per 1000 requests = CPU-ms per request.
		out = append(out, TradePoint{Verifier: r.Verifier, StaleMS: math.Max(ms, tradeoffFloorMS), Never: never, CostUS: r.CPU.Median * 1000})
	}
	return out
}

// ParetoFront returns the points no other point beats on both staleness
// and cost (never counts as the worst staleness), by staleness ascending.
func ParetoFront(pts []TradePoint) []TradePoint {
	s := append([]TradePoint(nil), pts...)
	key := func(p TradePoint) float64 {
		if p.Never {
			return math.Inf(1)
		}
		return p.StaleMS
	}
	sort.SliceStable(s, func(a, b int) bool {
		if key(s[a]) != key(s[b]) {
			return key(s[a]) < key(s[b])
		}
		return s[a].CostUS < s[b].CostUS
	})
	var front []TradePoint
	best := math.Inf(1)
	for _, p := range s {
		if p.CostUS < best {
			front = append(front, p)
			best = p.CostUS
		}
	}
	return front
}

// TradeOff draws the headline trade-off: x = worst measured staleness of
// file edits (log, "never" at the right edge), y = server CPU per request
// (log), one labelled point per verifier and the Pareto front (dashed
// staircase). Skipped
// without at least two points.
func TradeOff(dir string, ov analysis.Overview) ([]string, error) {
	pts := TradePoints(ov)
	if len(pts) < 2 {
		return nil, nil
	}
	maxFinite, lo, hi := tradeoffFloorMS, math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		if !p.Never {
			maxFinite = math.Max(maxFinite, p.StaleMS)
		}
		lo, hi = math.Min(lo, p.CostUS), math.Max(hi, p.CostUS)
	}
	neverX := maxFinite * 10
	x := func(p TradePoint) float64 {
		if p.Never {
			return neverX
		}
		return p.StaleMS
	}
	p := newPlot("Cost against staleness — "+ov.Scenario,
		"worst staleness of file edits (ms, log; never = right edge)", "server CPU per request (µs, log)")
	var labels plotter.XYLabels
	for _, pt := range pts {
		sc, err := plotter.NewScatter(plotter.XYs{{X: x(pt), Y: pt.CostUS}})
		if err != nil {
			return nil, fmt.Errorf("trade-off plot: %w", err)
		}
		st := StyleOf(pt.Verifier)
		sc.Color, sc.Shape, sc.Radius = st.Color, st.Shape, vg.Points(4)
		p.Add(sc)
	}
	for _, g := range labelGroups(pts, x) {
		labels.XYs = append(labels.XYs, g.at)
		labels.Labels = append(labels.Labels, " "+g.text)
	}
	var front plotter.XYs
	for _, f := range ParetoFront(pts) {
		// A step line: staleness can only be bought with cost.
		if n := len(front); n > 0 {
			front = append(front, plotter.XY{X: x(f), Y: front[n-1].Y})
		}
		front = append(front, plotter.XY{X: x(f), Y: f.CostUS})
	}
	if len(front) > 1 {
		l, err := plotter.NewLine(front)
		if err != nil {
			return nil, fmt.Errorf("trade-off plot: %w", err)
		}
		l.Color = color.RGBA{0x44, 0x44, 0x44, 0xff}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		p.Add(l)
	}
	edge, err := plotter.NewLine(plotter.XYs{{X: neverX, Y: lo / 2}, {X: neverX, Y: hi * 2}})
	if err != nil {
		return nil, fmt.Errorf("trade-off plot: %w", err)
	}
	edge.Color = color.Gray{0xaa}
	edge.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
	p.Add(edge)
	labels.XYs = append(labels.XYs, plotter.XY{X: neverX, Y: hi * 1.6})
	labels.Labels = append(labels.Labels, " never")
	lb, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, fmt.Errorf("trade-off plot: %w", err)
	}
	p.Add(lb)
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = logTicks{}, logTicks{}
	p.X.Min, p.X.Max = tradeoffFloorMS/2, neverX*4
	p.Y.Min, p.Y.Max = lo/2, hi*2
	return one(dir, "tradeoff", p, plotW, plotH)
}

type labelGroup struct {
	at   plotter.XY
	text string
}

// labelGroups merges the labels of points that nearly coincide (same x
// within 20 %, cost within 25 %: e.g. several verifiers that never
// see an edit and cost about the same) into one label at the highest of
// them, so names do not print over each other.
func labelGroups(pts []TradePoint, x func(TradePoint) float64) []labelGroup {
	s := append([]TradePoint(nil), pts...)
	sort.SliceStable(s, func(a, b int) bool { return s[a].CostUS > s[b].CostUS })
	var out []labelGroup
	var anchor []TradePoint
	for _, p := range s {
		merged := false
		for i, g := range out {
			a := anchor[i]
			if r := x(p) / x(a); r > 1/1.2 && r < 1.2 && a.CostUS/p.CostUS < 1.25 {
				out[i].text = g.text + ", " + p.Verifier
				merged = true
				break
			}
		}
		if !merged {
			out = append(out, labelGroup{at: plotter.XY{X: x(p), Y: p.CostUS}, text: p.Verifier})
			anchor = append(anchor, p)
		}
	}
	return out
}
