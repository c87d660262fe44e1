package plotting

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

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
	// StaleN is the number of file-edit events behind StaleMS.
	StaleN int
	// CostUS is server CPU per request in µs (median over repeats), with
	// the repeats' min and max and their number.
	CostUS, CostLoUS, CostHiUS float64
	CostN                      int
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
		n := 0
		for c, s := range r.Staleness {
			if c.IsFileEdit() {
				n += s.N
			}
		}
		// CPU-seconds per 1000 requests = CPU-ms per request.
		out = append(out, TradePoint{Verifier: r.Verifier, StaleMS: math.Max(ms, tradeoffFloorMS), Never: never, StaleN: n,
			CostUS: r.CPU.Median * 1000, CostLoUS: r.CPU.Min * 1000, CostHiUS: r.CPU.Max * 1000, CostN: r.CPU.N})
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

// Size of the trade-off chart: wide enough that a reader sees every
// label (at 96 dpi 864 × 528 px).
var (
	tradeoffW = 9 * vg.Inch
	tradeoffH = 5.5 * vg.Inch
)

// TradeOff draws the headline trade-off: x = worst measured staleness of
// file edits (log, "never" at the right edge), y = server CPU per request
// (log, median with min–max interval bars over repeats), one labelled
// point per verifier (labels placed so they do not overlap) and the
// Pareto front (dashed staircase). Skipped without at least two points.
func TradeOff(dir string, ov analysis.Overview) ([]string, error) {
	fig, ok, err := tradeoffFig(ov)
	if err != nil || !ok {
		return nil, err
	}
	return write(dir, []figure{fig})
}

func tradeoffFig(ov analysis.Overview) (figure, bool, error) {
	pts := TradePoints(ov)
	if len(pts) < 2 {
		return figure{}, false, nil
	}
	maxFinite, lo, hi := tradeoffFloorMS, math.Inf(1), math.Inf(-1)
	var costN, staleN []int
	for _, p := range pts {
		if !p.Never {
			maxFinite = math.Max(maxFinite, p.StaleMS)
		}
		lo, hi = math.Min(lo, math.Min(p.CostUS, positive(p.CostLoUS, p.CostUS))), math.Max(hi, math.Max(p.CostUS, p.CostHiUS))
		costN, staleN = append(costN, p.CostN), append(staleN, p.StaleN)
	}
	neverX := maxFinite * 10
	x := func(p TradePoint) float64 {
		if p.Never {
			return neverX
		}
		return p.StaleMS
	}
	p := newPlot("Cost against staleness — "+ov.Scenario,
		"worst staleness of file edits over "+nOf(staleN, "event")+" (ms, log; never = right edge)",
		"server CPU per request (µs, log; median, min–max; "+nOf(costN, "repeat")+")")
	const radius = 4
	var markers plotter.XYs
	var errs errPoints
	for _, pt := range pts {
		xy := plotter.XY{X: x(pt), Y: pt.CostUS}
		sc, err := plotter.NewScatter(plotter.XYs{xy})
		if err != nil {
			return figure{}, false, fmt.Errorf("trade-off plot: %w", err)
		}
		st := StyleOf(pt.Verifier)
		sc.Color, sc.Shape, sc.Radius = st.Color, st.Shape, vg.Points(radius)
		p.Add(sc)
		markers = append(markers, xy)
		if pt.CostN > 1 && pt.CostHiUS > pt.CostLoUS && pt.CostLoUS > 0 {
			errs.XYs = append(errs.XYs, xy)
			errs.YErrors = append(errs.YErrors, struct{ Low, High float64 }{pt.CostUS - pt.CostLoUS, pt.CostHiUS - pt.CostUS})
		}
	}
	if len(errs.XYs) > 0 {
		eb, err := plotter.NewYErrorBars(errs)
		if err != nil {
			return figure{}, false, fmt.Errorf("trade-off plot: %w", err)
		}
		eb.Width = vg.Points(1)
		eb.CapWidth = vg.Points(6)
		p.Add(eb)
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
			return figure{}, false, fmt.Errorf("trade-off plot: %w", err)
		}
		l.Color = color.RGBA{0x44, 0x44, 0x44, 0xff}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		p.Add(l)
	}
	edge, err := plotter.NewLine(plotter.XYs{{X: neverX, Y: lo / 2}, {X: neverX, Y: hi * 2}})
	if err != nil {
		return figure{}, false, fmt.Errorf("trade-off plot: %w", err)
	}
	edge.Color = color.Gray{0xaa}
	edge.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
	p.Add(edge)
	labels := &placedLabels{style: p.X.Tick.Label, markers: markers, radius: vg.Points(radius + 1),
		rules: []plotter.XYs{front, {{X: neverX, Y: lo / 2}, {X: neverX, Y: hi * 2}}}}
	for i, xy := range errs.XYs {
		e := errs.YErrors[i]
		labels.rules = append(labels.rules, plotter.XYs{{X: xy.X, Y: xy.Y - e.Low}, {X: xy.X, Y: xy.Y + e.High}})
	}
	labels.style.Font.Size = vg.Points(10)
	labels.style.XAlign, labels.style.YAlign = draw.XLeft, draw.YBottom
	// "never" first, at the top of its rule, so the names make room for it.
	labels.anchors = append(labels.anchors, plotter.XY{X: neverX, Y: hi * 1.6})
	labels.texts = append(labels.texts, "never")
	for _, g := range labelGroups(pts, x) {
		labels.anchors = append(labels.anchors, g.at)
		labels.texts = append(labels.texts, g.text)
	}
	p.Add(labels)
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = logTicks{}, logTicks{}
	p.X.Min, p.X.Max = tradeoffFloorMS/2, neverX*4
	p.Y.Min, p.Y.Max = lo/2, hi*2
	return framed("tradeoff", p, nil, tradeoffW, tradeoffH), true, nil
}

// positive is v, or alt when v is not positive (a missing minimum).
func positive(v, alt float64) float64 {
	if v > 0 {
		return v
	}
	return alt
}

// nOf is "n = 3 repeats" or "n = 2–3 repeats" over the points' counts.
func nOf(ns []int, noun string) string {
	lo, hi := math.MaxInt, 0
	for _, n := range ns {
		lo, hi = min(lo, n), max(hi, n)
	}
	if hi == 0 {
		return "no " + noun + "s"
	}
	s := fmt.Sprintf("n = %d", lo)
	if hi != lo {
		s += fmt.Sprintf("–%d", hi)
	}
	if hi == 1 {
		return s + " " + noun
	}
	return s + " " + noun + "s"
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
