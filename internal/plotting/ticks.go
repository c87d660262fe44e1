package plotting

import (
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
)

// logSpan is the ratio of the largest to the smallest plotted value above
// which an axis goes logarithmic (1.5 decades): below it a linear axis
// still shows the small values, above it they sink into the baseline.
var logSpan = math.Pow(10, 1.5)

// numTicks is the linear tick marker of every numeric axis: gonum's tick
// positions, labels from fmtTicks (no float noise, one precision per
// axis, k and M for thousands and millions).
type numTicks struct{}

func (numTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	var vals []float64
	for _, t := range ticks {
		if t.Label != "" {
			vals = append(vals, t.Value)
		}
	}
	labels := fmtTicks(vals)
	i := 0
	for j := range ticks {
		if ticks[j].Label != "" {
			ticks[j].Label = labels[i]
			i++
		}
	}
	return ticks
}

// logTicks labels 1, 2 and 5 times powers of ten (only powers of ten over
// more than three decades), and every minor tick when the range spans less
// than a decade, so short ranges still get labels
// (plot.LogTicks only labels powers of ten).
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= 0 || hi < lo {
		return nil
	}
	var ticks []plot.Tick
	for e := int(math.Floor(math.Log10(lo))); e <= int(math.Ceil(math.Log10(hi))); e++ {
		for m := 1; m < 10; m++ {
			// Parsed, not multiplied: 3 * 0.1 is 0.30000000000000004.
			v, _ := strconv.ParseFloat(strconv.Itoa(m)+"e"+strconv.Itoa(e), 64)
			if v < lo*0.999 || v > hi*1.001 {
				continue
			}
			t := plot.Tick{Value: v}
			// Over more than three decades 2 and 5 crowd the axis.
			if m == 1 || (m == 2 || m == 5) && hi/lo <= 1000 || hi/lo < 10 {
				t.Label = fmtNum(v)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// fmtTicks formats the labels of one linear axis with one number of
// decimals, the fewest that still write every value exactly (0.5, 1.0,
// 1.5), in thousands ("12k") or millions ("1.5M") when the largest value
// reaches 10⁴ or 10⁷.
func fmtTicks(vals []float64) []string {
	top := 0.0
	for _, v := range vals {
		top = math.Max(top, math.Abs(v))
	}
	div, suffix := 1.0, ""
	switch {
	case top >= 1e7:
		div, suffix = 1e6, "M"
	case top >= 1e4:
		div, suffix = 1e3, "k"
	}
	dec := 0
	for _, v := range vals {
		dec = max(dec, decimals(v/div))
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		s := strconv.FormatFloat(v/div, 'f', dec, 64)
		if v == 0 {
			s = "0"
		} else {
			s += suffix
		}
		out[i] = strings.Replace(s, "-", "−", 1)
	}
	return out
}

// decimals is the fewest decimals (at most 6) that write v to within
// float noise.
func decimals(v float64) int {
	for d := range 6 {
		p := math.Pow(10, float64(d))
		if math.Abs(v*p-math.Round(v*p)) < 1e-6*math.Max(1, math.Abs(v*p)) {
			return d
		}
	}
	return 6
}

// fmtNum formats one number on its own (a log tick, a label) with at most
// three significant digits, in thousands or millions from 10⁴ up.
func fmtNum(v float64) string {
	return fmtTicks([]float64{roundSig(v, 3)})[0]
}

// roundSig rounds v to n significant digits.
func roundSig(v float64, n int) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', n, 64), 64)
	return r
}

// spansDecades reports whether the positive values of vs span more than
// logSpan, so a linear axis would flatten the small ones.
func spansDecades(vs []float64) bool {
	lo, hi := math.Inf(1), 0.0
	for _, v := range vs {
		if v > 0 {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	return hi > 0 && hi/lo > logSpan
}

// logAxis makes a a log axis framing [lo, hi] with some room either side.
func logAxis(a *plot.Axis, lo, hi float64) {
	a.Scale = plot.LogScale{}
	a.Tick.Marker = logTicks{}
	a.Min, a.Max = lo/1.3, hi*1.3
}

// autoLogX switches to a log X axis when the plotted xs span more than
// logSpan (all positive).
func autoLogX(p *plot.Plot, xs []float64) {
	if len(xs) < 2 || !spansDecades(xs) || minOf(xs) <= 0 {
		return
	}
	logAxis(&p.X, minOf(xs), maxOf(xs))
}

func minOf(xs []float64) float64 {
	m := math.Inf(1)
	for _, x := range xs {
		m = math.Min(m, x)
	}
	return m
}

func maxOf(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = math.Max(m, x)
	}
	return m
}
