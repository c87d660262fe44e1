package gate

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchunit"
)

// Direction says which way a unit gets worse.
type Direction int

// Directions. The zero value means "not set" in an override.
const (
	HigherIsWorse Direction = iota + 1 // costs: time, bytes, allocations, latency
	LowerIsWorse                       // rates and speedups
)

// directions lists the units whose direction is known; DefaultDirection
// falls back to rules for the rest.
var directions = map[string]Direction{
	"sec/op":    HigherIsWorse,
	"ns/op":     HigherIsWorse, // benchfmt tidies it to sec/op; kept for hand-built Samples
	"B/op":      HigherIsWorse,
	"allocs/op": HigherIsWorse,
	"slow/op":   HigherIsWorse,
	"req/s":     LowerIsWorse,
	"ops/s":     LowerIsWorse,
	"B/s":       LowerIsWorse,
	"speedup":   LowerIsWorse,
	"x":         LowerIsWorse,
}

// DefaultDirection returns the direction of unit: the table above, then
// "…/s", "speedup…" and "…ratio" as LowerIsWorse, and everything else
// (per-op costs, p50/p99 latencies, counts) as HigherIsWorse.
func DefaultDirection(unit string) Direction {
	if d, ok := directions[unit]; ok {
		return d
	}
	u := strings.ToLower(unit)
	if strings.HasSuffix(u, "/s") || strings.HasPrefix(u, "speedup") || strings.HasSuffix(u, "ratio") {
		return LowerIsWorse
	}
	return HigherIsWorse
}

// Options configure Compare and the calibration helpers.
type Options struct {
	// Alpha is the family-wise error rate; 0 means 0.05.
	Alpha float64
	// MinEffect is the smallest ratio change that counts, as a fraction;
	// 0 means 0.05 (5 %), a negative value means none (pure significance).
	MinEffect float64
	// Seed makes the simulations of the calibration helpers repeatable.
	// Compare itself is deterministic and ignores it.
	Seed uint64
	// NoCorrection disables Holm–Bonferroni; for calibration only.
	NoCorrection bool
	// FDR replaces Holm's family-wise control with Benjamini–Hochberg's
	// false-discovery rate at Alpha: for a suite of many benchmarks, where
	// Holm's power falls with every benchmark added. With every metric
	// unchanged (an A/A run) BH still bounds the chance of any alert by
	// Alpha, so a quiet suite stays quiet.
	FDR bool
	// Direction overrides DefaultDirection; returning 0 falls back to it.
	Direction func(unit string) Direction `json:"-"`
}

func (o Options) withDefaults() (Options, error) {
	if o.Alpha == 0 {
		o.Alpha = 0.05
	}
	if o.MinEffect == 0 {
		o.MinEffect = 0.05
	}
	if o.MinEffect < 0 {
		o.MinEffect = 0
	}
	if !(o.Alpha > 0 && o.Alpha < 1) {
		return o, fmt.Errorf("alpha %v outside (0, 1)", o.Alpha)
	}
	return o, nil
}

func (o Options) direction(unit string) Direction {
	if o.Direction != nil {
		if d := o.Direction(unit); d != 0 {
			return d
		}
	}
	return DefaultDirection(unit)
}

// Verdict is the outcome for one metric.
type Verdict int

// Verdicts.
const (
	Inconclusive Verdict = iota // interval straddles ±MinEffect
	NoChange                    // interval wholly inside ±MinEffect
	Improvement                 // interval wholly beyond MinEffect, better
	Regression                  // interval wholly beyond MinEffect, worse
)

// Symbol is the verdict as printed in the table.
func (v Verdict) Symbol() string {
	return [...]string{"~", "=", "better", "WORSE"}[v]
}

func (v Verdict) String() string {
	return [...]string{"inconclusive", "no change", "improvement", "regression"}[v]
}

// Metric is the comparison of one (benchmark, unit).
type Metric struct {
	Key
	Direction  Direction
	Base, Cand benchmath.Summary // median and its 95 % CI per side, as benchstat prints
	NBase      int
	NCand      int
	Ratio      float64 // Hodges–Lehmann estimate of cand/base
	Lo, Hi     float64 // CI of the ratio at Confidence
	Confidence float64 // actual coverage of [Lo, Hi] (≥ 1 − Alpha)
	Alpha      float64 // per-metric level after Holm (or BH)
	P          float64 // p-value of "|change| ≤ MinEffect"
	PAdj       float64 // Holm-adjusted P (BH: the q-value)
	Verdict    Verdict
}

// Report is the result of Compare.
type Report struct {
	Metrics  []Metric // sorted by name, then unit
	OnlyBase []Key    // metrics missing from the candidate
	OnlyCand []Key    // metrics new in the candidate
	Opts     Options  // with defaults filled in
}

// Failed reports whether any metric regressed.
func (r *Report) Failed() bool {
	return len(r.Regressions()) > 0
}

// Regressions returns the regressed metrics.
func (r *Report) Regressions() []Metric {
	var out []Metric
	for _, m := range r.Metrics {
		if m.Verdict == Regression {
			out = append(out, m)
		}
	}
	return out
}

// Exit codes of a gate run.
const (
	ExitPass       = 0
	ExitRegression = 1
	ExitError      = 2
)

// ExitCode maps a Compare outcome to the gate's exit code: 2 on error, 1
// on a regression, 0 otherwise.
func ExitCode(r *Report, err error) int {
	switch {
	case err != nil || r == nil:
		return ExitError
	case r.Failed():
		return ExitRegression
	}
	return ExitPass
}

// ErrNoCommon is returned when base and candidate share no metric.
var ErrNoCommon = errors.New("no benchmark common to base and candidate")

// ErrTooFewSamples is wrapped by the error for samples too small to ever
// reach the requested confidence.
var ErrTooFewSamples = errors.New("too few samples")

// Compare compares every metric present in both base and cand.
func Compare(base, cand Samples, opts Options) (*Report, error) {
	return compare(base, cand, opts, uCache{})
}

type prepared struct {
	m          Metric
	logB, logC []float64
	equal      bool // both sides one identical constant: nothing to test
}

func compare(base, cand Samples, opts Options, cache uCache) (*Report, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Report{Opts: opts}
	var ps []prepared
	for _, k := range base.Keys() {
		c, ok := cand[k]
		if !ok {
			r.OnlyBase = append(r.OnlyBase, k)
			continue
		}
		p, err := prepare(k, base[k], c, opts)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
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

	// The strictest level Holm may assign is Alpha/M; every metric must
	// be able to reach it, or a regression there could never be seen.
	M := len(ps)
	strict := opts.Alpha
	if !opts.NoCorrection {
		strict /= float64(M)
	}
	for _, p := range ps {
		if k, _ := cache.get(p.m.NBase, p.m.NCand).crit(strict); k == 0 {
			return nil, fmt.Errorf("compare %s: %w: n=%d base, %d candidate; a %.4g%% interval (alpha %.3g over %d metrics) needs at least %d samples per side",
				p.m.Key, ErrTooFewSamples, p.m.NBase, p.m.NCand, 100*(1-strict), opts.Alpha, M, minRoundsFor(strict))
		}
	}

	theta := math.Log1p(opts.MinEffect)
	stats := make([]shiftStats, M)
	for i := range ps {
		if ps[i].equal {
			ps[i].m.P = 1
			continue
		}
		stats[i] = newShiftStats(ps[i].logB, ps[i].logC)
		ps[i].m.Ratio = math.Exp(stats[i].hl)
		ps[i].m.P = stats[i].pBeyond(cache.get(ps[i].m.NBase, ps[i].m.NCand), theta)
	}

	correct(ps, opts)

	for i := range ps {
		m := &ps[i].m
		if ps[i].equal {
			m.Ratio, m.Lo, m.Hi, m.Confidence, m.Verdict = 1, 1, 1, 1, NoChange
			r.Metrics = append(r.Metrics, *m)
			continue
		}
		d := cache.get(m.NBase, m.NCand)
		k, cov := d.crit(m.Alpha)
		lo, hi := stats[i].interval(k)
		m.Lo, m.Hi, m.Confidence = math.Exp(lo), math.Exp(hi), cov
		switch {
		case lo > theta || hi < -theta:
			up := lo > theta
			if (up && m.Direction == HigherIsWorse) || (!up && m.Direction == LowerIsWorse) {
				m.Verdict = Regression
			} else {
				m.Verdict = Improvement
			}
		case lo > -theta && hi < theta:
			m.Verdict = NoChange
		}
		r.Metrics = append(r.Metrics, *m)
	}
	return r, nil
}

// holm is the step-down: rank r is tested at Alpha/(M−r) until the first
// non-rejection at rank R; later ranks keep R's level.
// correct applies the run's multiple-comparison correction over every
// metric, in ascending p order: Benjamini–Hochberg with opts.FDR, else
// Holm (NoCorrection is handled inside holm). The unpaired and the paired
// comparison share it.
func correct(ps []prepared, opts Options) {
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return ps[order[a]].m.P < ps[order[b]].m.P })
	if opts.FDR && !opts.NoCorrection {
		benjaminiHochberg(ps, order, opts.Alpha)
	} else {
		holm(ps, order, opts)
	}
}

func holm(ps []prepared, order []int, opts Options) {
	M := len(ps)
	stopped, padj := false, 0.0
	level := opts.Alpha / float64(M)
	for r, i := range order {
		m := &ps[i].m
		factor := float64(M - r)
		if opts.NoCorrection {
			factor = 1
		}
		padj = math.Max(padj, math.Min(1, factor*m.P))
		m.PAdj = padj
		if !stopped {
			level = opts.Alpha / factor
			stopped = m.P > level
		}
		m.Alpha = level
	}
}

// benjaminiHochberg is the step-up: the largest rank R (1-based) with
// p_(R) ≤ Alpha·R/M rejects ranks 1..R. Every metric's interval is printed
// at Alpha·max(R,1)/M: rejected ones have p ≤ that level, the others
// p > Alpha·(R+1)/M > it, so verdict and interval agree. PAdj is the BH
// q-value.
func benjaminiHochberg(ps []prepared, order []int, alpha float64) {
	M := len(ps)
	R := 0
	for r, i := range order {
		if ps[i].m.P <= alpha*float64(r+1)/float64(M) {
			R = r + 1
		}
	}
	level := alpha * float64(max(R, 1)) / float64(M)
	q := 1.0
	for r := M - 1; r >= 0; r-- {
		m := &ps[order[r]].m
		q = math.Min(q, math.Min(1, m.P*float64(M)/float64(r+1)))
		m.PAdj = q
		m.Alpha = level
	}
}

// prepare validates one metric and takes logs. Counts that include zero
// (0 allocs/op) are compared as log(v+1) so that 0 → 1 is finite.
func prepare(k Key, b, c []float64, opts Options) (prepared, error) {
	p := prepared{m: Metric{Key: k, Direction: opts.direction(k.Unit), NBase: len(b), NCand: len(c)}}
	p.m.Base = summary(b)
	p.m.Cand = summary(c)
	offset, equal := 0.0, true
	for _, v := range append(append([]float64(nil), b...), c...) {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return p, fmt.Errorf("compare %s: cannot compare value %v", k, v)
		}
		if v == 0 {
			offset = 1
		}
		equal = equal && v == b[0]
	}
	if equal {
		p.equal = true
		return p, nil
	}
	logs := func(xs []float64) []float64 {
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = math.Log(x + offset)
		}
		return out
	}
	p.logB, p.logC = logs(b), logs(c)
	return p, nil
}

func summary(xs []float64) benchmath.Summary {
	if len(xs) == 0 {
		return benchmath.Summary{}
	}
	s := benchmath.NewSample(append([]float64(nil), xs...), &benchmath.DefaultThresholds)
	return benchmath.AssumeNothing.Summary(s, 0.95)
}

// WriteTable prints the report as an aligned, benchstat-like table
// followed by a summary line.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "benchmark\tunit\tbase\tcand\tcand/base [CI]\tverdict\t\n")
	counts := map[Verdict]int{}
	for _, m := range r.Metrics {
		counts[m.Verdict]++
		cls := benchunit.ClassOf(m.Unit)
		fmt.Fprintf(tw, "%s\t%s\t%s ± %s\t%s ± %s\t%s\t%s\t%s\n", m.Name, m.Unit,
			benchunit.Scale(m.Base.Center, cls), m.Base.PctRangeString(),
			benchunit.Scale(m.Cand.Center, cls), m.Cand.PctRangeString(),
			fmtRatio(m), m.Verdict.Symbol(), note(m))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	corr := "Holm-corrected"
	switch {
	case r.Opts.NoCorrection:
		corr = "uncorrected"
	case r.Opts.FDR:
		corr = "false-discovery rate, Benjamini–Hochberg"
	}
	_, err := fmt.Fprintf(w, "%d metrics: %d regressions, %d improvements, %d no change, %d inconclusive (alpha %g %s, min effect %g%%)\n",
		len(r.Metrics), counts[Regression], counts[Improvement], counts[NoChange], counts[Inconclusive],
		r.Opts.Alpha, corr, 100*r.Opts.MinEffect)
	for _, k := range r.OnlyBase {
		fmt.Fprintf(w, "only in base: %s\n", k)
	}
	for _, k := range r.OnlyCand {
		fmt.Fprintf(w, "only in candidate: %s\n", k)
	}
	if err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

func fmtRatio(m Metric) string {
	return fmt.Sprintf("%.3f [%.3f, %.3f]", m.Ratio, m.Lo, m.Hi)
}

func note(m Metric) string {
	s := fmt.Sprintf("(%.1f%% CI, p=%.3g", 100*m.Confidence, m.PAdj)
	if m.NBase == m.NCand {
		return s + fmt.Sprintf(" n=%d)", m.NBase)
	}
	return s + fmt.Sprintf(" n=%d+%d)", m.NBase, m.NCand)
}
