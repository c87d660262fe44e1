package gate

import (
	"math"
	"math/rand/v2"
)

// BestOf reduces the k samples a round took of each metric to the best
// one: the minimum of a cost, the maximum of a rate. OS jitter and noisy
// neighbours only ever add time, so the best of k short samples is the
// robust estimate of a round (Chen & Revels 2016); the rounds then carry
// the between-round variation that the comparison tests.
func BestOf(s Samples, opts Options) Samples {
	out := make(Samples, len(s))
	for k, vs := range s {
		if len(vs) == 0 {
			continue
		}
		best := vs[0]
		for _, v := range vs[1:] {
			if opts.direction(k.Unit) == LowerIsWorse {
				best = math.Max(best, v)
			} else {
				best = math.Min(best, v)
			}
		}
		out[k] = []float64{best}
	}
	return out
}

// Jittered returns a Generator of n interleaved rounds per side, each round
// the BestOf k samples, for one sec/op metric per entry of cvs. A sample is
// the true cost times lognormal noise of that CV, plus, with probability
// burst, an additive stall of up to burstScale times the cost (a neighbour
// taking the core): the noise the min-of-k protocol is built for. The
// candidate's true cost is 1+slowdown times the base's.
func Jittered(seed uint64, n, k int, cvs []float64, burst, burstScale, slowdown float64) Generator {
	return synthetic(seed, cvs, func(rng *rand.Rand, name string, sigma float64, base, cand Samples) {
		sample := func(cost float64) float64 {
			v := cost * math.Exp(sigma*rng.NormFloat64())
			if rng.Float64() < burst {
				v += cost * burstScale * rng.Float64()
			}
			return v
		}
		for range n {
			for _, side := range []struct {
				s    Samples
				cost float64
			}{{base, 1e-6}, {cand, 1e-6 * (1 + slowdown)}} {
				round := Samples{}
				for range k {
					round.Add(name, "sec/op", sample(side.cost))
				}
				side.s.Merge(BestOf(round, Options{}))
			}
		}
	})
}
