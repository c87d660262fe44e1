package plotting

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// placedLabels draws one text per anchor, each placed beside its anchor
// where it overlaps no other label and no marker (placeLabels), inside
// the data area; a label pushed away from its anchor gets a leader line.
type placedLabels struct {
	anchors plotter.XYs
	texts   []string
	style   text.Style
	// markers are every plotted point, with the radius each covers.
	markers plotter.XYs
	radius  vg.Length
	// rules are horizontal and vertical lines (the Pareto staircase, the
	// "never" edge) a label should not sit on.
	rules []plotter.XYs
}

// Plot implements plot.Plotter.
func (l *placedLabels) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	var obstacles []vg.Rectangle
	for _, m := range l.markers {
		obstacles = append(obstacles, around(vg.Point{X: trX(m.X), Y: trY(m.Y)}, l.radius))
	}
	for _, line := range l.rules {
		for i := 1; i < len(line); i++ {
			a, b := vg.Point{X: trX(line[i-1].X), Y: trY(line[i-1].Y)}, vg.Point{X: trX(line[i].X), Y: trY(line[i].Y)}
			// The segment's bounding box: exact for the axis-parallel
			// steps drawn here.
			obstacles = append(obstacles, vg.Rectangle{
				Min: vg.Point{X: min(a.X, b.X) - 1, Y: min(a.Y, b.Y) - 1},
				Max: vg.Point{X: max(a.X, b.X) + 1, Y: max(a.Y, b.Y) + 1},
			})
		}
	}
	anchors := make([]vg.Point, len(l.anchors))
	sizes := make([]vg.Point, len(l.anchors))
	for i, a := range l.anchors {
		anchors[i] = vg.Point{X: trX(a.X), Y: trY(a.Y)}
		sizes[i] = l.style.Rectangle(l.texts[i]).Size()
	}
	boxes, far := placeLabels(anchors, sizes, obstacles, c.Rectangle, l.radius)
	lead := draw.LineStyle{Color: color.Gray{0x88}, Width: vg.Points(0.5)}
	for i, b := range boxes {
		r := l.style.Rectangle(l.texts[i])
		c.FillText(l.style, b.Min.Sub(r.Min), l.texts[i])
		if far[i] {
			c.StrokeLine2(lead, anchors[i].X, anchors[i].Y, nearest(b, anchors[i]).X, nearest(b, anchors[i]).Y)
		}
	}
}

// around is the square of half-side r around p.
func around(p vg.Point, r vg.Length) vg.Rectangle {
	return vg.Rectangle{Min: vg.Point{X: p.X - r, Y: p.Y - r}, Max: vg.Point{X: p.X + r, Y: p.Y + r}}
}

// nearest is the point of box b nearest to p.
func nearest(b vg.Rectangle, p vg.Point) vg.Point {
	return vg.Point{X: max(b.Min.X, min(p.X, b.Max.X)), Y: max(b.Min.Y, min(p.Y, b.Max.Y))}
}

// overlaps reports whether a and b share more than a hairline.
func overlaps(a, b vg.Rectangle) bool {
	const eps = 0.25
	return a.Min.X < b.Max.X-eps && b.Min.X < a.Max.X-eps && a.Min.Y < b.Max.Y-eps && b.Min.Y < a.Max.Y-eps
}

func within(r, bounds vg.Rectangle) bool {
	return r.Min.X >= bounds.Min.X && r.Max.X <= bounds.Max.X && r.Min.Y >= bounds.Min.Y && r.Max.Y <= bounds.Max.Y
}

func overlapArea(a, b vg.Rectangle) vg.Length {
	w := min(a.Max.X, b.Max.X) - max(a.Min.X, b.Min.X)
	h := min(a.Max.Y, b.Max.Y) - max(a.Min.Y, b.Min.Y)
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

// placeLabels places a box of sizes[i] beside each anchor, greedily in
// order: the first candidate position (right, left, above, below, the
// diagonals, then further out) that lies inside bounds and overlaps no
// obstacle and no box placed before; failing all, the in-bounds
// candidate with the least overlap. far[i] is set when the box is not in
// the first ring around its anchor (it then needs a leader line). r is
// the half-size of the markers the anchors sit on.
func placeLabels(anchors, sizes []vg.Point, obstacles []vg.Rectangle, bounds vg.Rectangle, r vg.Length) (boxes []vg.Rectangle, far []bool) {
	const gap = vg.Length(2)
	taken := append([]vg.Rectangle(nil), obstacles...)
	for i, a := range anchors {
		w, h := sizes[i].X, sizes[i].Y
		var cands []vg.Point // lower-left corners
		ring := 0
		for k := range 6 {
			d := r + gap + vg.Length(k)*h
			cands = append(cands,
				vg.Point{X: a.X + d, Y: a.Y - h/2},
				vg.Point{X: a.X - d - w, Y: a.Y - h/2},
				vg.Point{X: a.X - w/2, Y: a.Y + d},
				vg.Point{X: a.X - w/2, Y: a.Y - d - h},
				vg.Point{X: a.X + d, Y: a.Y + d},
				vg.Point{X: a.X + d, Y: a.Y - d - h},
				vg.Point{X: a.X - d - w, Y: a.Y + d},
				vg.Point{X: a.X - d - w, Y: a.Y - d - h},
			)
			if k == 0 {
				ring = len(cands)
			}
		}
		best, bestCost := -1, vg.Length(-1)
		for j, c := range cands {
			box := vg.Rectangle{Min: c, Max: vg.Point{X: c.X + w, Y: c.Y + h}}
			if !within(box, bounds) {
				continue
			}
			var cost vg.Length
			for _, t := range taken {
				if overlaps(box, t) {
					cost += overlapArea(box, t) + 1
				}
			}
			if cost == 0 {
				best = j
				break
			}
			if bestCost < 0 || cost < bestCost {
				best, bestCost = j, cost
			}
		}
		if best < 0 {
			best = 0 // nothing fits inside: beside the anchor, clipped
		}
		c := cands[best]
		box := vg.Rectangle{Min: c, Max: vg.Point{X: c.X + w, Y: c.Y + h}}
		boxes = append(boxes, box)
		far = append(far, best >= ring)
		taken = append(taken, box)
	}
	return boxes, far
}
