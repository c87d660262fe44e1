package analysis

import (
	"fmt"
	"math"

	"github.com/authbench/authbench/internal/results"
)

// Metric is a per-verifier measurement the report states as a ratio.
type Metric string

// The metrics with intervals.
const (
	// MetricCPU is server CPU-seconds per 1000 requests at the verifier's
	// reference rate (lower is better).
	MetricCPU Metric = "cpu"
	// MetricKnee is sustained throughput: the knee of each search (higher
	// is better); scenarios without knee searches have no knee ratio.
	MetricKnee Metric = "knee"
	// MetricP99 is p99 latency at the scenario's common rate (lower is better).
	MetricP99 Metric = "p99"
)

// Metrics lists the metrics in report order.
var Metrics = []Metric{MetricCPU, MetricKnee, MetricP99}

// Label is the metric's name in reports.
func (m Metric) Label() string {
	switch m {
	case MetricCPU:
		return "CPU per request"
	case MetricKnee:
		return "throughput"
	case MetricP99:
		return "p99 latency"
	}
	return string(m)
}

// unitValues returns metric m of verifier v per unit (round or repeat).
// runs are one scenario's runs in one config.
func unitValues(runs []results.Run, v string, m Metric) map[int]float64 {
	out := map[int]float64{}
	perUnit := func(rs []results.Run, get func(results.Run) float64) {
		by := map[int][]float64{}
		for _, r := range rs {
			if x := get(r); x > 0 {
				by[Unit(r)] = append(by[Unit(r)], x)
			}
		}
		for u, xs := range by {
			out[u] = Median(xs)
		}
	}
	switch m {
	case MetricCPU:
		src := Profiled(runs)
		if len(src) == 0 {
			src = runs
		}
		if p, ok := RefPoint(src, v); ok {
			perUnit(p.Runs, func(r results.Run) float64 { return r.CPUSecondsPer1kReq })
		}
	case MetricKnee:
		// Without a search the best achieved rate is the offered rate of a
		// fixed-rate scenario: its ratio would be 1 by construction.
		if k, fromSearch := kneeUnits(ByVerifier(runs, v)); fromSearch {
			return k
		}
	case MetricP99:
		if rate, ok := CommonRate(runs); ok {
			for _, p := range LoadPoints(runs, v) {
				if p.OfferedRPS == rate {
					perUnit(p.Runs, func(r results.Run) float64 { return r.Latency.P99 })
				}
			}
		}
	}
	return out
}

// ratioOf forms a/b per round when the scenario was measured in rounds and
// both sides share rounds, else from the repeats unpaired.
func ratioOf(a, b map[int]float64, rounds bool) Interval {
	if len(a) == 0 || len(b) == 0 {
		return noInterval
	}
	if rounds {
		if iv := PairedRatio(a, b); iv.Valid() {
			return iv
		}
	}
	return UnpairedRatio(values(a), values(b))
}

// NoiseWidth is the A/A noise floor as a fraction: the larger distance of
// the copy-to-control interval's ends from 1. ok is false without an A/A
// interval.
func NoiseWidth(aa Interval) (float64, bool) {
	if !aa.HasRange() {
		return 0, false
	}
	return math.Max(math.Abs(aa.Hi-1), math.Abs(1-aa.Lo)), true
}

// DiffKind says how a ratio to the control relates to the noise floor.
type DiffKind int

// Kinds of difference.
const (
	// NoInterval: a single round or repeat; nothing can be said.
	NoInterval DiffKind = iota
	// Indistinguishable: the whole interval lies inside the noise floor
	// [1 − noise, 1 + noise].
	Indistinguishable
	// Higher: the whole interval lies above 1 + noise.
	Higher
	// Lower: the whole interval lies below 1 − noise.
	Lower
	// Unclear: the interval crosses an edge of the noise floor: neither
	// shown equal nor shown different.
	Unclear
)

// Difference is a ratio judged against the run's A/A noise floor.
type Difference struct {
	Kind DiffKind
	// Noise is the noise floor used (fraction); 0 when NoiseKnown is false.
	Noise      float64
	NoiseKnown bool
}

// Distinguish judges iv (a ratio to the control) against the A/A interval
// aa with the targets' rule (AtLeast/AtMost on the whole interval), so a
// mark never contradicts a target verdict: indistinguishable only when
// the whole interval lies inside [1 − floor, 1 + floor], higher or lower
// only when it lies wholly beyond, unclear otherwise. Without an A/A
// interval the floor is 0: nothing is indistinguishable, and only an
// interval that excludes 1 counts as a difference.
func Distinguish(iv, aa Interval) Difference {
	x, known := NoiseWidth(aa)
	d := Difference{Noise: x, NoiseKnown: known}
	above, _ := AtLeast(iv, 1-x)
	below, _ := AtMost(iv, 1+x)
	switch {
	case !iv.HasRange():
		d.Kind = NoInterval
	case iv.Lo > 1+x:
		d.Kind = Higher
	case iv.Hi < 1-x:
		d.Kind = Lower
	case known && above == Met && below == Met:
		d.Kind = Indistinguishable
	default:
		d.Kind = Unclear
	}
	return d
}

func (d Difference) String() string {
	floor := "no A/A row"
	if d.NoiseKnown {
		floor = fmt.Sprintf("± %.1f %%", 100*d.Noise)
	}
	switch d.Kind {
	case Higher:
		return "higher (beyond " + floor + ")"
	case Lower:
		return "lower (beyond " + floor + ")"
	case Indistinguishable:
		return "indistinguishable (" + floor + ")"
	case Unclear:
		if !d.NoiseKnown {
			return "unclear (interval includes 1; no A/A row)"
		}
		return "unclear (interval crosses the " + floor + " floor)"
	}
	return "n/a (1 round)"
}

// FormatRatio formats a ratio with its interval: "0.512× [0.490–0.530]",
// or "0.512× [n/a (1 round)]" without one; "—" without data.
func FormatRatio(iv Interval) string {
	if !iv.Valid() {
		return "—"
	}
	if !iv.HasRange() {
		return fmt.Sprintf("%s× [n/a (1 round)]", fmtRatio(iv.Est))
	}
	return fmt.Sprintf("%s× [%s–%s]", fmtRatio(iv.Est), fmtRatio(iv.Lo), fmtRatio(iv.Hi))
}

// FormatCoverage names the interval's coverage and how it was formed, for
// footnotes: "95 % CI, 8 rounds paired".
func FormatCoverage(iv Interval) string {
	if !iv.HasRange() {
		return "no interval"
	}
	how := fmt.Sprintf("%d repeats unpaired", iv.N)
	if iv.Paired {
		how = fmt.Sprintf("%d rounds paired", iv.N)
	}
	return fmt.Sprintf("%.0f %% CI, %s", 100*iv.Coverage, how)
}

// fmtRatio keeps three significant digits, enough to show a 1 % difference.
func fmtRatio(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "—"
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	case x >= 0.995: // "%.3g" would print 0.9996 as "1"
		return fmt.Sprintf("%.2f", x)
	default:
		return fmt.Sprintf("%.3g", x)
	}
}
