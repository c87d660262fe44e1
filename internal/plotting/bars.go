package plotting

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/authbench/authbench/internal/analysis"
)

// bar is one bar: its position, its value (the median) with the min–max
// of its repeats, its colour.
type bar struct {
	x      float64
	offset vg.Length // from x, for groups of bars side by side
	v      analysis.Spread
	color  color.Color
}

// bars draws bars from the bottom of the Y axis, so they work on a log
// axis too (gonum's BarChart starts at 0, which a log axis cannot show),
// with a min–max interval bar where repeats disagree.
type bars struct {
	items []bar
	width vg.Length
}

func (b *bars) add(x float64, offset vg.Length, v analysis.Spread, c color.Color) {
	b.items = append(b.items, bar{x: x, offset: offset, v: v, color: c})
}

// Plot implements plot.Plotter.
func (b *bars) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	base := math.Max(plt.Y.Min, 0)
	if _, log := plt.Y.Scale.(plot.LogScale); log {
		base = plt.Y.Min
	}
	y := func(v float64) vg.Length { return trY(math.Min(math.Max(v, base), plt.Y.Max)) }
	ls := draw.LineStyle{Color: color.Black, Width: vg.Points(1.2)}
	for _, it := range b.items {
		if it.v.N == 0 {
			continue
		}
		mid := trX(it.x) + it.offset
		x0, x1 := mid-b.width/2, mid+b.width/2
		rect := vg.Rectangle{Min: vg.Point{X: x0, Y: y(base)}, Max: vg.Point{X: x1, Y: y(it.v.Median)}}
		c.SetColor(it.color)
		c.Fill(rect.Path())
		if it.v.N < 2 || it.v.Min == it.v.Max {
			continue
		}
		whisker := b.width / 4
		lo, hi := y(it.v.Min), y(it.v.Max)
		c.StrokeLines(ls, []vg.Point{{X: mid, Y: lo}, {X: mid, Y: hi}})
		c.StrokeLines(ls, []vg.Point{{X: mid - whisker, Y: lo}, {X: mid + whisker, Y: lo}})
		c.StrokeLines(ls, []vg.Point{{X: mid - whisker, Y: hi}, {X: mid + whisker, Y: hi}})
	}
}

// Thumbnail implements plot.Thumbnailer for a single-colour bar set.
func (b *bars) Thumbnail(c *draw.Canvas) {
	if len(b.items) == 0 {
		return
	}
	c.SetColor(b.items[0].color)
	c.Fill(c.Rectangle.Path())
}

// frame sets the Y axis for the bars: from 0 (linear) or below the
// smallest interval end (log, when the values span more than logSpan) to
// above the largest, and the X axis around n positions.
func (b *bars) frame(p *plot.Plot, n int) {
	var vals []float64
	lo, hi := math.Inf(1), 0.0
	for _, it := range b.items {
		if it.v.N == 0 {
			continue
		}
		vals = append(vals, it.v.Median)
		lo, hi = math.Min(lo, math.Min(it.v.Min, it.v.Median)), math.Max(hi, math.Max(it.v.Max, it.v.Median))
	}
	p.X.Min, p.X.Max = -0.6, float64(n)-0.4
	switch {
	case hi <= 0:
		p.Y.Min, p.Y.Max = 0, 1
	case spansDecades(vals) && lo > 0:
		logAxis(&p.Y, lo, hi)
		p.Y.Min = lo / 2 // the smallest bar keeps some height
	default:
		p.Y.Min, p.Y.Max = 0, hi*1.08
	}
}
