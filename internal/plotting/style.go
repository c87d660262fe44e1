package plotting

import (
	"hash/fnv"
	"image/color"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/impl/ticket"
	"github.com/authbench/authbench/internal/results"
)

// Style is how one verifier is drawn in every plot.
type Style struct {
	Color  color.RGBA
	Shape  draw.GlyphDrawer
	Dashes []vg.Length
}

// palette colours the registered verifiers in registry order (impl.Specs),
// so the baseline and the PBS stages keep their colours and a verifier
// added to the registry gets the next one without editing a list here.
var palette = []color.RGBA{
	{0xd6, 0x27, 0x28, 0xff}, // red: uncached
	{0x1f, 0x77, 0xb4, 0xff}, // blue
	{0x2c, 0xa0, 0x2c, 0xff}, // green
	{0xff, 0x7f, 0x0e, 0xff}, // orange
	{0x94, 0x67, 0xbd, 0xff}, // purple
	{0x8c, 0x56, 0x4b, 0xff},
	{0xe3, 0x77, 0xc2, 0xff},
	{0xbc, 0xbd, 0x22, 0xff},
	{0x17, 0xbe, 0xcf, 0xff},
	{0x39, 0x3b, 0x79, 0xff},
	{0x63, 0x79, 0x39, 0xff},
	{0x84, 0x3c, 0x39, 0xff},
}

// The controls are references, drawn grey and dashed.
var (
	controlStyle = Style{Color: color.RGBA{0x6e, 0x6e, 0x6e, 0xff}, Shape: draw.CircleGlyph{},
		Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}
	controlCopyStyle = Style{Color: color.RGBA{0xa8, 0xa8, 0xa8, 0xff}, Shape: draw.RingGlyph{},
		Dashes: []vg.Length{vg.Points(1.5), vg.Points(2)}}
)

// familyShape tells the PBS stages, authbench's own proposals and peers
// apart at a glance.
func familyShape(f impl.Family) draw.GlyphDrawer {
	switch f {
	case impl.FamilyOurs:
		return draw.BoxGlyph{}
	case impl.FamilyPeer:
		return draw.TriangleGlyph{}
	}
	return draw.CircleGlyph{}
}

// StyleOf returns verifier v's style: fixed for the controls, by registry
// position and family for registered verifiers, by position in
// ticket.Strategies() for ticket strategies (ours drawn as boxes, PVE's as
// circles, as for the token verifiers), and by name hash for names no
// registry knows (so the choice does not depend on which other verifiers
// are in a run).
func StyleOf(v string) Style {
	switch v {
	case results.ControlVerifier:
		return controlStyle
	case results.ControlCopyVerifier:
		return controlCopyStyle
	}
	for i, s := range impl.Specs() {
		if s.Name == v {
			return Style{Color: palette[i%len(palette)], Shape: familyShape(s.Family)}
		}
	}
	if name, ok := results.TicketStrategy(v); ok {
		for i, s := range ticket.Strategies() {
			if s.Name == name {
				st := Style{Color: palette[i%len(palette)], Shape: draw.CircleGlyph{}}
				if s.Ours {
					st.Shape = draw.BoxGlyph{}
				}
				return st
			}
		}
	}
	h := fnv.New32a()
	h.Write([]byte(v))
	return Style{Color: palette[h.Sum32()%uint32(len(palette))], Shape: draw.CrossGlyph{}}
}

// VerifierColor returns the colour of verifier v; the same name always gets
// the same colour.
func VerifierColor(v string) color.RGBA { return StyleOf(v).Color }

// bucket colours for the CPU share plot.
var bucketColors = []color.RGBA{
	{0xd6, 0x27, 0x28, 0xff}, // crypt
	{0x1f, 0x77, 0xb4, 0xff}, // shadow_read
	{0xff, 0x7f, 0x0e, 0xff}, // stat
	{0xb0, 0xb0, 0xb0, 0xff}, // other
}
