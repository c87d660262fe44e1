package plotting

import (
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// textBox is where one drawn string's box (advance width × ascent +
// descent) lands on the canvas: four corners, rotated with the canvas.
type textBox struct {
	text    string
	corners [4]vg.Point
}

// affine is x' = a·x + c·y + e, y' = b·x + d·y + f.
type affine struct{ a, b, c, d, e, f float64 }

func (m affine) apply(p vg.Point) vg.Point {
	x, y := float64(p.X), float64(p.Y)
	return vg.Point{X: vg.Length(m.a*x + m.c*y + m.e), Y: vg.Length(m.b*x + m.d*y + m.f)}
}

func (m affine) mul(n affine) affine {
	return affine{
		a: m.a*n.a + m.c*n.b, b: m.b*n.a + m.d*n.b,
		c: m.a*n.c + m.c*n.d, d: m.b*n.c + m.d*n.d,
		e: m.a*n.e + m.c*n.f + m.e, f: m.b*n.e + m.d*n.f + m.f,
	}
}

// textCanvas is a vg.Canvas that draws nothing and records where every
// string goes, so tests can check that no text leaves the canvas and no
// two texts overlap.
type textCanvas struct {
	m     affine
	stack []affine
	texts []textBox
}

func newTextCanvas() *textCanvas { return &textCanvas{m: affine{a: 1, d: 1}} }

func (c *textCanvas) SetLineWidth(vg.Length)              {}
func (c *textCanvas) SetLineDash([]vg.Length, vg.Length)  {}
func (c *textCanvas) SetColor(color.Color)                {}
func (c *textCanvas) Stroke(vg.Path)                      {}
func (c *textCanvas) Fill(vg.Path)                        {}
func (c *textCanvas) DrawImage(vg.Rectangle, image.Image) {}
func (c *textCanvas) Push()                               { c.stack = append(c.stack, c.m) }
func (c *textCanvas) Pop() {
	c.m = c.stack[len(c.stack)-1]
	c.stack = c.stack[:len(c.stack)-1]
}
func (c *textCanvas) Rotate(rad float64) {
	s, co := math.Sincos(rad)
	c.m = c.m.mul(affine{a: co, b: s, c: -s, d: co})
}
func (c *textCanvas) Translate(p vg.Point) {
	c.m = c.m.mul(affine{a: 1, d: 1, e: float64(p.X), f: float64(p.Y)})
}
func (c *textCanvas) Scale(x, y float64) { c.m = c.m.mul(affine{a: x, d: y}) }

func (c *textCanvas) FillString(f font.Face, pt vg.Point, s string) {
	if f.Font.Size == 0 || s == "" {
		return
	}
	e := f.Extents()
	w := f.Width(s)
	lo, hi := pt.Y-e.Descent, pt.Y+e.Ascent
	c.texts = append(c.texts, textBox{text: s, corners: [4]vg.Point{
		c.m.apply(vg.Point{X: pt.X, Y: lo}), c.m.apply(vg.Point{X: pt.X + w, Y: lo}),
		c.m.apply(vg.Point{X: pt.X + w, Y: hi}), c.m.apply(vg.Point{X: pt.X, Y: hi}),
	}})
}

// recordTexts draws fig and returns its text boxes.
func recordTexts(fig figure) []textBox {
	c := newTextCanvas()
	fig.draw(draw.NewCanvas(c, fig.w, fig.h))
	return c.texts
}

// outside reports whether any corner of b lies outside w × h (with a
// hairline of slack).
func (b textBox) outside(w, h vg.Length) bool {
	const eps = 0.5
	for _, p := range b.corners {
		if p.X < -eps || p.Y < -eps || p.X > w+eps || p.Y > h+eps {
			return true
		}
	}
	return false
}

// overlap reports whether two text boxes intersect by more than a
// hairline (separating axis test on the two rectangles, each shrunk by
// shrink on every side: the font's ascent leaves room above most glyphs).
func overlap(a, b textBox, shrink vg.Length) bool {
	qa, qb := shrunk(a.corners, shrink), shrunk(b.corners, shrink)
	for _, q := range [][4]vg.Point{qa, qb} {
		for i := range 2 {
			ax := vg.Point{X: q[i+1].X - q[i].X, Y: q[i+1].Y - q[i].Y}
			n := vg.Point{X: -ax.Y, Y: ax.X}
			amin, amax := project(qa, n)
			bmin, bmax := project(qb, n)
			if amax <= bmin || bmax <= amin {
				return false
			}
		}
	}
	return true
}

func project(q [4]vg.Point, n vg.Point) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range q {
		d := float64(p.X*n.X + p.Y*n.Y)
		lo, hi = math.Min(lo, d), math.Max(hi, d)
	}
	return lo, hi
}

// shrunk moves each corner of a rectangle toward its centre by s along
// both of the rectangle's sides.
func shrunk(q [4]vg.Point, s vg.Length) [4]vg.Point {
	unit := func(a, b vg.Point) vg.Point {
		dx, dy := float64(b.X-a.X), float64(b.Y-a.Y)
		l := math.Hypot(dx, dy)
		if l == 0 {
			return vg.Point{}
		}
		return vg.Point{X: vg.Length(dx / l), Y: vg.Length(dy / l)}
	}
	u, v := unit(q[0], q[1]), unit(q[0], q[3])
	w := float64(math.Hypot(float64(q[1].X-q[0].X), float64(q[1].Y-q[0].Y)))
	h := float64(math.Hypot(float64(q[3].X-q[0].X), float64(q[3].Y-q[0].Y)))
	sx, sy := math.Min(float64(s), w/2), math.Min(float64(s), h/2)
	mv := func(p vg.Point, du, dv float64) vg.Point {
		return vg.Point{X: p.X + vg.Length(du)*u.X + vg.Length(dv)*v.X, Y: p.Y + vg.Length(du)*u.Y + vg.Length(dv)*v.Y}
	}
	return [4]vg.Point{mv(q[0], sx, sy), mv(q[1], -sx, sy), mv(q[2], -sx, -sy), mv(q[3], sx, -sy)}
}
