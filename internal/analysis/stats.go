package analysis

import (
	"math"
	"slices"
	"sort"
)

// Level is the coverage the intervals aim for.
const Level = 0.95

// Median returns the median of xs (the mean of the middle two for an even
// count), ignoring NaNs; NaN when nothing is left. It is the one median of
// the report, the plots, compare and the gate.
func Median(xs []float64) float64 {
	v := finite(xs)
	if len(v) == 0 {
		return math.NaN()
	}
	sort.Float64s(v)
	n := len(v)
	return (v[(n-1)/2] + v[n/2]) / 2
}

func finite(xs []float64) []float64 {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			v = append(v, x)
		}
	}
	return v
}

// Interval is an estimate with a distribution-free confidence interval.
type Interval struct {
	Est, Lo, Hi float64
	// N is the number of rounds (paired) or the smaller number of repeats
	// (unpaired) behind the estimate; 0 means no data.
	N int
	// Coverage is the actual coverage of [Lo, Hi] (0 when N < 2).
	Coverage float64
	// Paired is true when the ratio was formed per round.
	Paired bool
}

// Valid reports whether iv has an estimate.
func (iv Interval) Valid() bool { return iv.N > 0 && !math.IsNaN(iv.Est) }

// HasRange reports whether iv has an interval, not just an estimate.
func (iv Interval) HasRange() bool { return iv.Valid() && iv.N >= 2 && iv.Coverage > 0 }

// Overlaps reports whether two intervals share a point; an estimate without
// range counts as the point interval [Est, Est].
func (iv Interval) Overlaps(o Interval) bool {
	alo, ahi := iv.bounds()
	blo, bhi := o.bounds()
	return alo <= bhi && blo <= ahi
}

func (iv Interval) bounds() (lo, hi float64) {
	if iv.HasRange() {
		return iv.Lo, iv.Hi
	}
	return iv.Est, iv.Est
}

var noInterval = Interval{Est: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}

// PairedRatio estimates a/b from values measured in the same units (rounds):
// the Hodges–Lehmann estimate of the per-unit log ratios with the exact
// Wilcoxon signed-rank interval. Units missing on either side or with a
// non-positive value are dropped.
func PairedRatio(a, b map[int]float64) Interval {
	var d []float64
	for u, x := range a {
		if y, ok := b[u]; ok && x > 0 && y > 0 && !math.IsInf(x, 0) && !math.IsInf(y, 0) {
			d = append(d, math.Log(x/y))
		}
	}
	if len(d) == 0 {
		return noInterval
	}
	iv := signedRank(d)
	iv.Est, iv.Lo, iv.Hi = math.Exp(iv.Est), math.Exp(iv.Lo), math.Exp(iv.Hi)
	iv.Paired = true
	return iv
}

// UnpairedRatio estimates a/b from independent repeats: the Hodges–Lehmann
// estimate of the log shift with the exact Mann–Whitney interval.
func UnpairedRatio(a, b []float64) Interval {
	la, lb := logs(a), logs(b)
	if len(la) == 0 || len(lb) == 0 {
		return noInterval
	}
	d := make([]float64, 0, len(la)*len(lb))
	for _, x := range la {
		for _, y := range lb {
			d = append(d, x-y)
		}
	}
	sort.Float64s(d)
	iv := Interval{Est: math.Exp(Median(d)), N: min(len(la), len(lb))}
	if len(la) < 2 && len(lb) < 2 {
		iv.Lo, iv.Hi = iv.Est, iv.Est
		return iv
	}
	cdf := mannWhitneyCDF(len(la), len(lb))
	k, cov := critical(cdf)
	iv.Lo, iv.Hi, iv.Coverage = math.Exp(d[k-1]), math.Exp(d[len(d)-k]), cov
	if iv.N < 2 {
		iv.N = 2 // one side has a single value, the other several: still an interval
	}
	return iv
}

// Location estimates the centre of xs (one sample, e.g. a crypt share per
// round) with the signed-rank interval of its Walsh averages.
func Location(xs []float64) Interval {
	v := finite(xs)
	if len(v) == 0 {
		return noInterval
	}
	return signedRank(v)
}

func logs(xs []float64) []float64 {
	var out []float64
	for _, x := range finite(xs) {
		if x > 0 {
			out = append(out, math.Log(x))
		}
	}
	return out
}

// signedRank returns the Hodges–Lehmann estimate of d's centre (median of
// the Walsh averages) and the exact signed-rank interval.
func signedRank(d []float64) Interval {
	n := len(d)
	w := make([]float64, 0, n*(n+1)/2)
	for i := range d {
		for j := i; j < n; j++ {
			w = append(w, (d[i]+d[j])/2)
		}
	}
	sort.Float64s(w)
	iv := Interval{Est: Median(w), N: n}
	if n < 2 {
		iv.Lo, iv.Hi = iv.Est, iv.Est
		return iv
	}
	k, cov := critical(signedRankCDF(n))
	iv.Lo, iv.Hi, iv.Coverage = w[k-1], w[len(w)-k], cov
	return iv
}

// critical picks the order statistic k (1-based) of the interval
// [x_(k), x_(M+1−k)], whose coverage is 1 − 2·P(T ≤ k−1): the largest k
// with coverage ≥ Level, or 1 (the full range) when even that falls short.
func critical(cdf []float64) (k int, coverage float64) {
	k = 1
	for k < len(cdf) && 1-2*cdf[k] >= Level {
		k++
	}
	return k, 1 - 2*cdf[k-1]
}

// signedRankCDF returns P(T ≤ t) for t = 0..n(n+1)/2 of the Wilcoxon
// signed-rank statistic: the number of subsets of {1..n} with rank sum t,
// over 2^n.
func signedRankCDF(n int) []float64 {
	m := n * (n + 1) / 2
	c := make([]float64, m+1)
	c[0] = 1
	for r := 1; r <= n; r++ {
		for t := m; t >= r; t-- {
			c[t] += c[t-r]
		}
	}
	return cumulative(c, math.Ldexp(1, n))
}

// mannWhitneyCDF returns P(U ≤ u) for u = 0..n·m: the number of ways n
// ranks among n+m sum to u above their minimum, over C(n+m, n).
func mannWhitneyCDF(n, m int) []float64 {
	// f(i, j, u) = f(i−1, j, u−j) + f(i, j−1, u): the largest of the i+j
	// values is either from the first sample (and beats all j) or not.
	// Rows over i are kept two at a time.
	prev := make([][]float64, m+1)
	for j := range prev {
		prev[j] = []float64{1}
	}
	for i := 1; i <= n; i++ {
		cur := make([][]float64, m+1)
		cur[0] = []float64{1}
		for j := 1; j <= m; j++ {
			c := make([]float64, i*j+1)
			for u, x := range prev[j] {
				c[u+j] += x
			}
			for u, x := range cur[j-1] {
				c[u] += x
			}
			cur[j] = c
		}
		prev = cur
	}
	total := 0.0
	for _, x := range prev[m] {
		total += x
	}
	return cumulative(prev[m], total)
}

func cumulative(counts []float64, total float64) []float64 {
	out := slices.Clone(counts)
	for i := range out {
		if i > 0 {
			out[i] += out[i-1]
		}
	}
	for i := range out {
		out[i] /= total
	}
	return out
}
