package loadgen

import (
	"math"
	"slices"
)

// CeilingFraction is how close to the generator's ceiling a knee may come
// before it is "capped by the generator".
const CeilingFraction = 0.95

// GeneratorCeiling is the highest rate this load generator sustains on
// this machine against the cheapest server there is: the median of the
// last sustained rates (Knee.Rate) of the knee searches against the no-auth
// control (the same HTTP stack answering without verifying anything: the
// control and its A/A copy, every round), judged by the same rule as any
// step (achieved ≥ 99 % of offered, p99 within bound, expected statuses).
// The server's own work there is the HTTP stack alone, so what stops
// those searches is the generator and the stack they share the CPUs
// with, not authentication. Searches that found no sustained rate (0)
// are left out; without any it returns 0 (no ceiling known) and the
// count used.
func GeneratorCeiling(controlKnees []float64) (ceiling float64, n int) {
	var xs []float64
	for _, k := range controlKnees {
		if k > 0 && !math.IsInf(k, 0) && !math.IsNaN(k) {
			xs = append(xs, k)
		}
	}
	if len(xs) == 0 {
		return 0, 0
	}
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m], len(xs)
	}
	return (xs[m-1] + xs[m]) / 2, len(xs)
}

// CappedByGenerator reports whether a knee is at or above
// CeilingFraction × ceiling: then the measured server was not what
// saturated (or cannot be told apart from the control at this
// resolution), and the knee says only "at least the generator's
// ceiling". A zero ceiling (unknown) caps nothing. The control's own
// searches are capped by this rule whenever they reach the median.
func CappedByGenerator(knee, ceiling float64) bool {
	return ceiling > 0 && knee >= CeilingFraction*ceiling
}
