package gate

import (
	"math"
	"slices"
	"sort"
)

// ChangeOptions configure ChangePoints.
type ChangeOptions struct {
	// MinSegment is the fewest points on either side of a change; 0
	// means 3.
	MinSegment int
	// Alpha is the false-discovery rate over the series tested together
	// (Benjamini–Hochberg), after a Bonferroni factor for the choice of
	// the split; 0 means 0.05.
	Alpha float64
	// MinEffect is the smallest step that counts, as a fraction; 0 means
	// 0.05.
	MinEffect float64
}

func (o ChangeOptions) withDefaults() ChangeOptions {
	if o.MinSegment <= 0 {
		o.MinSegment = 3
	}
	if o.Alpha == 0 {
		o.Alpha = 0.05
	}
	if o.MinEffect == 0 {
		o.MinEffect = 0.05
	}
	return o
}

// Change is one step in a series: the level changes from point Index on.
type Change struct {
	Index         int
	Ratio, Lo, Hi float64 // after/before (ratio of geometric means) and its 95 % interval
	NBefore       int     // points in the segment before
	NAfter        int     // points in the segment after
	P             float64 // p-value of "|step| ≤ MinEffect", before any correction
}

// ChangePoints finds the steps in each series (one value per commit, in
// commit order) by binary segmentation:
//
//  1. A median-of-3 filter removes single spikes; the split that best
//     explains the filtered log values as two constant levels (least
//     squares) is the candidate, with at least MinSegment points a side.
//  2. The log values either side of the split (as many as the shorter
//     side has, on both sides) are compared by Welch's t-test of "the
//     step is at most MinEffect" (a rank test cannot decide three against
//     three); the p-value is multiplied by the number of splits tried,
//     and Benjamini–Hochberg runs over all series of this level.
//  3. The level must change at the split: the jump across it is at least
//     half the difference of the two segments' means, so a slow drift (many
//     small steps) is not a step.
//
// Accepted splits are searched again on both sides. Series shorter than
// 2·MinSegment have none. The result is indexed like series.
func ChangePoints(series [][]float64, opts ChangeOptions) [][]Change {
	opts = opts.withDefaults()
	out := make([][]Change, len(series))
	type seg struct{ s, a, b int }
	var todo []seg
	for i, xs := range series {
		todo = append(todo, seg{i, 0, len(xs)})
	}
	for len(todo) > 0 {
		type cand struct {
			seg
			c Change
			p float64 // Bonferroni over the splits
		}
		var cs []cand
		for _, g := range todo {
			c, splits, ok := bestSplit(series[g.s][g.a:g.b], opts)
			if !ok {
				continue
			}
			c.Index += g.a
			cs = append(cs, cand{g, c, math.Min(1, c.P*float64(splits))})
		}
		todo = nil
		ps := make([]float64, len(cs))
		for i, c := range cs {
			ps[i] = c.p
		}
		for i, keep := range BH(ps, opts.Alpha) {
			if !keep {
				continue
			}
			c := cs[i]
			out[c.s] = append(out[c.s], c.c)
			todo = append(todo, seg{c.s, c.a, c.c.Index}, seg{c.s, c.c.Index, c.b})
		}
	}
	for _, cs := range out {
		slices.SortFunc(cs, func(a, b Change) int { return a.Index - b.Index })
	}
	return out
}

// bestSplit returns the candidate step of xs, the number of splits tried,
// and whether it is a step at all (enough points, beyond the min effect,
// better than a line); Change.P is uncorrected.
func bestSplit(xs []float64, opts ChangeOptions) (Change, int, bool) {
	n, m := len(xs), opts.MinSegment
	if n < 2*m || slices.ContainsFunc(xs, func(v float64) bool { return !(v > 0) || math.IsInf(v, 0) }) {
		return Change{}, 0, false
	}
	y := median3(logsOf(xs))
	best, bestSSE := m, math.Inf(1)
	for k := m; k <= n-m; k++ {
		if s := sse(y[:k]) + sse(y[k:]); s < bestSSE {
			best, bestSSE = k, s
		}
	}
	splits := n - 2*m + 1
	if !isStep(y, best) {
		return Change{}, splits, false
	}
	// Balanced windows: the shorter side's length on both sides, so that
	// a further level beyond the near one (up, then down again) does not
	// dilute the comparison.
	w := min(best, n-best)
	lx := logsOf(xs)
	t := newWelch(lx[best-w:best], lx[best:best+w])
	lo, hi := t.interval(0.05)
	return Change{Index: best, Ratio: math.Exp(t.diff), Lo: math.Exp(lo), Hi: math.Exp(hi), NBefore: best, NAfter: n - best,
		P: t.pBeyond(math.Log1p(opts.MinEffect))}, splits, true
}

// BH returns which of the p-values Benjamini–Hochberg rejects at false
// discovery rate alpha.
func BH(ps []float64, alpha float64) []bool {
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return ps[order[a]] < ps[order[b]] })
	R := 0
	for r, i := range order {
		if ps[i] <= alpha*float64(r+1)/float64(len(ps)) {
			R = r + 1
		}
	}
	out := make([]bool, len(ps))
	for _, i := range order[:R] {
		out[i] = true
	}
	return out
}

func logsOf(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, v := range xs {
		out[i] = math.Log(v)
	}
	return out
}

// median3 replaces each point by the median of it and its neighbours (the
// end points by the median of the three nearest), which removes any
// single spike and keeps a step where it is.
func median3(y []float64) []float64 {
	n := len(y)
	out := make([]float64, n)
	for i := range y {
		a := min(max(i-1, 0), n-3)
		w := []float64{y[a], y[a+1], y[a+2]}
		slices.Sort(w)
		out[i] = w[1]
	}
	return out
}

func sse(y []float64) float64 {
	var mean float64
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	var s float64
	for _, v := range y {
		s += (v - mean) * (v - mean)
	}
	return s
}

// isStep reports whether the level change at k happens at k: the jump
// between the two filtered points either side of k is at least half the
// difference of the segments' means. A slow drift moves the means apart
// by many small steps, none of them half the whole.
func isStep(y []float64, k int) bool {
	jump := (y[k]+y[k+1])/2 - (y[k-2]+y[k-1])/2
	return math.Abs(jump) >= math.Abs(mean(y[k:])-mean(y[:k]))/2
}

func mean(y []float64) float64 {
	var s float64
	for _, v := range y {
		s += v
	}
	return s / float64(len(y))
}
