package plotting

import (
	"hash/fnv"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// fixed colours keep a verifier recognisable across every plot and report.
var fixedColors = map[string]color.RGBA{
	NoAuth:       {0x6e, 0x6e, 0x6e, 0xff},
	Uncached:     {0xd6, 0x27, 0x28, 0xff},
	"generation": {0x1f, 0x77, 0xb4, 0xff},
	"mtime":      {0x2c, 0xa0, 0x2c, 0xff},
	"ttl":        {0xff, 0x7f, 0x0e, 0xff},
}

// spare colours for verifiers registered later; picked by name hash so the
// choice does not depend on which other verifiers are in a run.
var spareColors = []color.RGBA{
	{0x94, 0x67, 0xbd, 0xff},
	{0x8c, 0x56, 0x4b, 0xff},
	{0xe3, 0x77, 0xc2, 0xff},
	{0xbc, 0xbd, 0x22, 0xff},
	{0x17, 0xbe, 0xcf, 0xff},
	{0x39, 0x3b, 0x79, 0xff},
	{0x63, 0x79, 0x39, 0xff},
	{0x84, 0x3c, 0x39, 0xff},
}

// VerifierColor returns the colour of verifier v; the same name always gets
// the same colour.
func VerifierColor(v string) color.RGBA {
	if c, ok := fixedColors[v]; ok {
		return c
	}
	h := fnv.New32a()
	h.Write([]byte(v))
	return spareColors[h.Sum32()%uint32(len(spareColors))]
}

// verifierDashes gives the control a dashed line so it reads as a reference.
func verifierDashes(v string) []vg.Length {
	if v == NoAuth {
		return []vg.Length{vg.Points(5), vg.Points(3)}
	}
	return nil
}

// bucket colours for the CPU share plot.
var bucketColors = []color.RGBA{
	{0xd6, 0x27, 0x28, 0xff}, // crypt
	{0x1f, 0x77, 0xb4, 0xff}, // shadow_read
	{0xff, 0x7f, 0x0e, 0xff}, // stat
	{0xb0, 0xb0, 0xb0, 0xff}, // other
}

// logTicks labels 1, 2 and 5 times powers of ten, and every minor tick when
// the range spans less than a decade, so short ranges still get labels
// (plot.LogTicks only labels powers of ten).
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= 0 || hi < lo {
		return nil
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		p := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			v := float64(m) * p
			if v < lo*0.999 || v > hi*1.001 {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 || hi/lo < 10 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// fileSafe turns a scenario or event name into a file name part.
func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}
