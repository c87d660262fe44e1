package plotting

import (
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Default sizes of one plot's data side (the legend strip comes on top).
var (
	plotW = 7 * vg.Inch
	plotH = 4.5 * vg.Inch
)

// legendGap separates the plot from the legend strip on its right;
// margin keeps text off the canvas edge.
const (
	legendGap = vg.Length(8)
	margin    = vg.Length(3)
)

// figure is one plot to write: its name (the files' base name), its size
// and how to draw it on a canvas of that size.
type figure struct {
	name string
	w, h vg.Length
	draw func(draw.Canvas)
	// plot is the figure's plot, nil for a grid of panels (tests read
	// its axes).
	plot *plot.Plot
}

// newLegend is a legend drawn beside a plot, not inside its data area,
// so it covers no line or bar.
func newLegend() *plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font = font.From(plot.DefaultFont, 10)
	l.Top, l.Left = true, true
	l.ThumbnailWidth = vg.Points(18)
	l.Padding = vg.Points(2) // entries' boxes apart, not just their ink
	return &l
}

// legendWidth is the width the legend strip takes, 0 without entries.
func legendWidth(l *plot.Legend) vg.Length {
	if l == nil {
		return 0
	}
	r := l.Rectangle(draw.Canvas{})
	if w := r.Max.X - r.Min.X; w > 0 {
		return w + legendGap + margin
	}
	return 0
}

// framed is a figure of one plot whose data side is w × h, with the
// legend (if any entries) in a strip to its right and the title and X
// label wrapped to the plot's width.
func framed(name string, p *plot.Plot, leg *plot.Legend, w, h vg.Length) figure {
	lw := legendWidth(leg)
	fitTexts(p, w, h)
	return figure{name: name, w: w + lw, h: h, plot: p, draw: func(c draw.Canvas) {
		// A margin: the font's ascent reaches above the title's line.
		drawPlot(draw.Crop(c, margin, -lw, 0, -margin), p)
		if lw > 0 {
			strip := draw.Crop(c, c.Max.X-c.Min.X-lw+legendGap, -margin, 0, -margin-p.Title.TextStyle.Height(p.Title.Text)-p.Title.Padding)
			leg.Draw(strip)
		}
	}}
}

// fitTexts wraps the title and the X axis label to width w (less a
// margin for the Y axis) and the Y label to height h, so none is cut at
// the canvas edge.
func fitTexts(p *plot.Plot, w, h vg.Length) {
	p.Title.Text = wrap(p.Title.TextStyle, p.Title.Text, w-2*margin-vg.Points(10))
	p.X.Label.Text = wrap(p.X.Label.TextStyle, p.X.Label.Text, w-vg.Points(70))
	p.Y.Label.Text = wrap(p.Y.Label.TextStyle, p.Y.Label.Text, h-vg.Points(70))
}

// drawPlot draws p on c with its axis labels drawn here, centred on the
// data area: gonum places a log axis's label glyph at the arithmetic
// midpoint of the axis range (near its far end) and then shrinks the
// data area to make room for it.
func drawPlot(c draw.Canvas, p *plot.Plot) {
	xl, yl := p.X.Label.Text, p.Y.Label.Text
	p.X.Label.Text, p.Y.Label.Text = "", ""
	defer func() { p.X.Label.Text, p.Y.Label.Text = xl, yl }()
	var xh, yw vg.Length
	if xl != "" {
		xh = p.X.Label.TextStyle.Height(xl) + p.X.Label.Padding
	}
	if yl != "" {
		yw = p.Y.Label.TextStyle.Height(yl) + p.Y.Label.Padding
	}
	inner := draw.Crop(c, yw, 0, xh, 0)
	p.Draw(inner)
	da := p.DataCanvas(inner)
	if xl != "" {
		descent := p.X.Label.TextStyle.FontExtents().Descent
		c.FillText(p.X.Label.TextStyle, vg.Point{X: (da.Min.X + da.Max.X) / 2, Y: c.Min.Y + descent}, xl)
	}
	if yl != "" {
		st := p.Y.Label.TextStyle
		st.Rotation += math.Pi / 2
		descent := st.FontExtents().Descent
		c.FillText(st, vg.Point{X: c.Min.X + p.Y.Label.TextStyle.Height(yl) - descent, Y: (da.Min.Y + da.Max.Y) / 2}, yl)
	}
}

// wrap breaks s into lines no wider than w in style st: first after a
// " — " (the scenario part of a title), then between words; a single word
// wider than w stays whole.
func wrap(st text.Style, s string, w vg.Length) string {
	if s == "" || st.Width(s) <= w {
		return s
	}
	if i := strings.LastIndex(s, " — "); i > 0 && st.Width(s[:i]) <= w && st.Width(s[i+1:]) <= w {
		return s[:i] + "\n" + s[i+1:]
	}
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case st.Width(line+" "+word) <= w:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	return strings.Join(append(lines, line), "\n")
}

// nominalX labels the bar positions 0..n-1 with names; when the widest
// name does not fit its slot of a w-wide plot, the names stand vertical
// below their bars instead of running into each other.
func nominalX(p *plot.Plot, names []string, w vg.Length) {
	p.X.Tick.Width = 0
	p.X.Tick.Length = 0
	p.X.Width = 0
	ticks := make(constTicks, len(names))
	widest := vg.Length(0)
	for i, name := range names {
		ticks[i] = plot.Tick{Value: float64(i), Label: name}
		widest = max(widest, p.X.Tick.Label.Width(name))
	}
	p.X.Tick.Marker = ticks
	// The data area is the plot less its Y axis (about 60 pt).
	slot := (w - vg.Points(60)) / vg.Length(max(len(names), 1)+1)
	if widest > slot*0.92 {
		p.X.Tick.Label.Rotation = math.Pi / 2
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
		return
	}
	p.Y.Padding = p.X.Tick.Label.Width(names[0]) / 2
}

// constTicks are fixed ticks (plot.ConstantTicks without the import of
// its name into every caller).
type constTicks []plot.Tick

func (t constTicks) Ticks(float64, float64) []plot.Tick { return t }
