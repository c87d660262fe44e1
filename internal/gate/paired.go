package gate

import (
	"fmt"
	"math"
	"slices"
)

// ComparePaired compares base and cand whose samples are paired by
// index: sample i of both sides was measured together (the two sides of
// one in-process A/B run). The effect is the Hodges–Lehmann estimate of
// the median of log(cand_i/base_i) — the median of the Walsh averages —
// with the distribution-free interval from inverting the Wilcoxon
// signed-rank test; verdicts, min effect and the Holm or BH correction are
// as in Compare. Pairing removes what the pair shares (the process, its
// map seeds and heap layout, the machine's load at the time), which the
// unpaired Compare would have to carry as noise.
func ComparePaired(base, cand Samples, opts Options) (*Report, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Report{Opts: opts}
	var ps []prepared
	var ds [][]float64
	for _, k := range base.Keys() {
		c, ok := cand[k]
		if !ok {
			r.OnlyBase = append(r.OnlyBase, k)
			continue
		}
		b := base[k]
		if len(b) != len(c) {
			return nil, fmt.Errorf("compare %s: %d base and %d candidate samples cannot be paired", k, len(b), len(c))
		}
		d := make([]float64, len(b))
		for i := range b {
			if !(b[i] > 0 && c[i] > 0) || math.IsInf(b[i], 0) || math.IsInf(c[i], 0) {
				return nil, fmt.Errorf("compare %s: cannot pair values %v and %v", k, b[i], c[i])
			}
			d[i] = math.Log(c[i] / b[i])
		}
		p := prepared{m: Metric{Key: k, Direction: opts.direction(k.Unit), NBase: len(b), NCand: len(c), Base: summary(b), Cand: summary(c)}}
		p.equal = !slices.ContainsFunc(d, func(x float64) bool { return x != 0 })
		ps = append(ps, p)
		ds = append(ds, d)
	}
	for k := range cand {
		if _, ok := base[k]; !ok {
			r.OnlyCand = append(r.OnlyCand, k)
		}
	}
	sortKeys(r.OnlyCand)
	if len(ps) == 0 {
		return nil, fmt.Errorf("compare: %w (base has %d metrics, candidate %d)", ErrNoCommon, len(base), len(cand))
	}
	M := len(ps)
	strict := opts.Alpha
	if !opts.NoCorrection {
		strict /= float64(M)
	}
	theta := math.Log1p(opts.MinEffect)
	walsh := make([][]float64, M)
	nulls := make([][]float64, M)
	for i, p := range ps {
		nulls[i] = signedRankNull(len(ds[i]))
		if k, _ := walshCrit(nulls[i], strict); k == 0 {
			return nil, fmt.Errorf("compare %s: %w: %d pairs; a %.4g%% interval (alpha %.3g over %d metrics) needs at least %d pairs",
				p.m.Key, ErrTooFewSamples, len(ds[i]), 100*(1-strict), opts.Alpha, M, minPairsFor(strict))
		}
		if ps[i].equal {
			ps[i].m.P = 1
			continue
		}
		walsh[i] = walshAverages(ds[i])
		ps[i].m.Ratio = math.Exp(median(walsh[i]))
		ps[i].m.P = pairedPBeyond(walsh[i], nulls[i], theta)
	}
	correct(ps, opts)
	for i := range ps {
		m := &ps[i].m
		if ps[i].equal {
			m.Ratio, m.Lo, m.Hi, m.Confidence, m.Verdict = 1, 1, 1, 1, NoChange
			r.Metrics = append(r.Metrics, *m)
			continue
		}
		k, cov := walshCrit(nulls[i], m.Alpha)
		w := walsh[i]
		lo, hi := w[k-1], w[len(w)-k]
		m.Lo, m.Hi, m.Confidence = math.Exp(lo), math.Exp(hi), cov
		m.Verdict = verdictOf(lo, hi, theta, m.Direction)
		r.Metrics = append(r.Metrics, *m)
	}
	return r, nil
}

func verdictOf(lo, hi, theta float64, dir Direction) Verdict {
	switch {
	case lo > theta || hi < -theta:
		up := lo > theta
		if (up && dir == HigherIsWorse) || (!up && dir == LowerIsWorse) {
			return Regression
		}
		return Improvement
	case lo > -theta && hi < theta:
		return NoChange
	}
	return Inconclusive
}

// signedRankNull is the CDF of the Wilcoxon signed-rank statistic T+ for
// n pairs: cdf[t] = P(T+ ≤ t).
func signedRankNull(n int) []float64 {
	N := n * (n + 1) / 2
	c := make([]float64, N+1)
	c[0] = 1
	for r := 1; r <= n; r++ {
		for t := N; t >= r; t-- {
			c[t] += c[t-r]
		}
	}
	total := math.Pow(2, float64(n))
	var s float64
	for t := range c {
		s += c[t]
		c[t] = math.Min(1, s/total)
	}
	return c
}

// walshCrit is the largest k with P(T+ ≤ k−1) ≤ a/2, so that the k-th
// smallest and k-th largest Walsh averages bound a ≥ 1−a interval; 0 when
// none does.
func walshCrit(cdf []float64, a float64) (int, float64) {
	k := 0
	for k < len(cdf) && cdf[k] <= a/2 {
		k++
	}
	if k == 0 {
		return 0, 0
	}
	return k, 1 - 2*cdf[k-1]
}

func minPairsFor(a float64) int {
	for n := 1; n < 200; n++ {
		if k, _ := walshCrit(signedRankNull(n), a); k > 0 {
			return n
		}
	}
	return 200
}

func walshAverages(d []float64) []float64 {
	var w []float64
	for i := range d {
		for j := i; j < len(d); j++ {
			w = append(w, (d[i]+d[j])/2)
		}
	}
	slices.Sort(w)
	return w
}

// pairedPBeyond is the p-value of "|shift| ≤ theta": two-sided, so that
// p ≤ a exactly when the 1−a interval lies beyond ±theta. Walsh averages
// tied with ±theta count against rejection.
func pairedPBeyond(w, cdf []float64, theta float64) float64 {
	below, above := 0, 0 // #W ≤ theta, #W ≥ −theta
	for _, x := range w {
		if x <= theta {
			below++
		}
		if x >= -theta {
			above++
		}
	}
	p := math.Min(cdf[below], cdf[above])
	return math.Min(1, 2*p)
}

func median(xs []float64) float64 {
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
