package gate

import (
	"math"
	"sort"
)

// exactLimit bounds n·m for the exact U distribution; its cost grows as
// (n·m)², and beyond it the normal approximation is accurate to well under
// the Monte Carlo noise of any calibration.
const exactLimit = 2500

// uNull is the null distribution of the Mann–Whitney count
// U = #{(i,j): x_i > y_j} for sample sizes n and m.
type uNull struct {
	n, m int
	cdf  []float64 // exact P(U ≤ u); nil means normal approximation
}

func newUNull(n, m int) *uNull {
	d := &uNull{n: n, m: m}
	if n*m > exactLimit {
		return d
	}
	// P_{i,j}(u): the largest of the i+j values is an x with probability
	// i/(i+j) and then beats all j ys. Probabilities, not counts, so
	// nothing overflows and no subtraction loses the tails.
	prev := make([][]float64, m+1)
	for i := 0; i <= n; i++ {
		cur := make([][]float64, m+1)
		for j := 0; j <= m; j++ {
			p := make([]float64, i*j+1)
			if i == 0 || j == 0 {
				p[0] = 1
			} else {
				px := float64(i) / float64(i+j)
				for u, q := range prev[j] {
					p[u+j] += px * q
				}
				for u, q := range cur[j-1] {
					p[u] += (1 - px) * q
				}
			}
			cur[j] = p
		}
		prev = cur
	}
	d.cdf = prev[m]
	for u := 1; u < len(d.cdf); u++ {
		d.cdf[u] += d.cdf[u-1]
	}
	return d
}

// CDF returns P(U ≤ u).
func (d *uNull) CDF(u int) float64 {
	if u < 0 {
		return 0
	}
	if u >= d.n*d.m {
		return 1
	}
	if d.cdf != nil {
		return d.cdf[u]
	}
	nm := float64(d.n * d.m)
	sigma := math.Sqrt(nm * float64(d.n+d.m+1) / 12)
	return 0.5 * math.Erfc(-(float64(u)+0.5-nm/2)/sigma/math.Sqrt2)
}

// crit returns the largest k with P(U ≤ k−1) ≤ a/2 and the actual coverage
// 1 − 2·P(U ≤ k−1) of the interval [d_(k), d_(nm+1−k)]. k == 0 means no
// finite interval exists at this level.
func (d *uNull) crit(a float64) (k int, coverage float64) {
	for d.CDF(k) <= a/2 {
		k++
	}
	return k, 1 - 2*d.CDF(k-1)
}

// uCache memoises null distributions by sample sizes for one comparison
// or one simulation; it is not shared between goroutines.
type uCache map[[2]int]*uNull

func (c uCache) get(n, m int) *uNull {
	k := [2]int{n, m}
	if d, ok := c[k]; ok {
		return d
	}
	d := newUNull(n, m)
	c[k] = d
	return d
}

// shiftStats are the rank statistics of the pairwise log differences.
type shiftStats struct {
	diffs []float64 // sorted log(c_j) − log(b_i)
	hl    float64   // Hodges–Lehmann estimate: median of diffs
}

func newShiftStats(logB, logC []float64) shiftStats {
	d := make([]float64, 0, len(logB)*len(logC))
	for _, b := range logB {
		for _, c := range logC {
			d = append(d, c-b)
		}
	}
	sort.Float64s(d)
	n := len(d)
	return shiftStats{d, (d[(n-1)/2] + d[n/2]) / 2}
}

// interval returns the order-statistic interval for critical index k.
func (s shiftStats) interval(k int) (lo, hi float64) {
	if k == 0 {
		return math.Inf(-1), math.Inf(1)
	}
	return s.diffs[k-1], s.diffs[len(s.diffs)-k]
}

// pBeyond returns the two-sided p-value of "|shift| ≤ theta". Counting ties against rejection
// makes p ≤ a hold exactly when interval(crit(a)) lies beyond ±theta.
func (s shiftStats) pBeyond(d *uNull, theta float64) float64 {
	atOrBelow := sort.Search(len(s.diffs), func(i int) bool { return s.diffs[i] > theta })
	atOrAbove := len(s.diffs) - sort.Search(len(s.diffs), func(i int) bool { return s.diffs[i] >= -theta })
	return math.Min(1, 2*math.Min(d.CDF(atOrBelow), d.CDF(atOrAbove)))
}

// minRoundsFor returns the smallest n such that n samples on each side
// admit a finite interval at level a (exact distribution), capped at 1000.
func minRoundsFor(a float64) int {
	// Smallest P(U ≤ 0) for n = m is 1/C(2n, n).
	for n := 1; n < 1000; n++ {
		lc, _ := math.Lgamma(float64(2*n + 1))
		ln, _ := math.Lgamma(float64(n + 1))
		if -(lc - 2*ln) <= math.Log(a/2) {
			return n
		}
	}
	return 1000
}

// MinRounds returns the smallest number of samples per side at which a
// family of metrics compared at family-wise level alpha can ever flag a
// metric: Holm's strictest level is alpha/metrics, and an exact
// Mann–Whitney interval at that level needs this many rounds. Callers use
// it to refuse a run that could only ever pass.
func MinRounds(alpha float64, metrics int) int {
	if alpha <= 0 || alpha >= 1 {
		alpha = 0.05
	}
	return minRoundsFor(alpha / float64(max(metrics, 1)))
}
