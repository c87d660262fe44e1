package loadgen

import "math"

// search is the knee search's state: which rate to try next, given the
// verdicts so far. It keeps the bracket [good, bad]: bad is the lowest
// failed rate, good the highest sustained rate below it (a sustained rate
// at or above a failed one is noise near the knee and does not move the
// bracket up).
type search struct {
	o         *KneeOptions
	good, bad float64 // 0 = none yet
	// Bracket verification: whether its lo and hi ends are still to run.
	verifyLo, verifyHi bool
	lastRate           float64
	goods              []float64
}

func newSearch(o *KneeOptions) *search {
	s := &search{o: o}
	switch {
	case o.Bracket[0] > 0:
		s.verifyLo, s.verifyHi = true, true
	case o.Known > 0:
		s.good = o.Known
		s.goods = append(s.goods, o.Known)
	case o.KnownBad > 0:
		s.bad = o.KnownBad
	}
	return s
}

// record takes a step's verdict.
func (s *search) record(rate float64, good bool) {
	s.lastRate = rate
	if good {
		s.goods = append(s.goods, rate)
	} else if s.bad == 0 || rate < s.bad {
		s.bad = rate
	}
	// The highest sustained rate below the first failed one.
	s.good = 0
	for _, g := range s.goods {
		if (s.bad == 0 || g < s.bad) && g > s.good {
			s.good = g
		}
	}
}

// resolved reports whether the bracket is within the resolution.
func (s *search) resolved() bool {
	return s.good > 0 && s.bad > 0 && s.bad/s.good <= 1+s.o.Resolution
}

// floor is the rate below which a search that found nothing sustainable
// stops ramping down.
func (s *search) floor() float64 { return s.o.StartRate * 1e-3 }

// next returns the next rate to try and its phase; ok is false when the
// search is done.
func (s *search) next() (rate float64, phase string, ok bool) {
	o := s.o
	clamp := func(r float64) float64 {
		if o.MaxRate > 0 {
			return min(r, o.MaxRate)
		}
		return r
	}
	if s.verifyLo {
		s.verifyLo = false
		return o.Bracket[0], PhaseVerify, true
	}
	if s.verifyHi {
		s.verifyHi = false
		if s.bad == 0 { // lo held: is hi still a failure?
			return clamp(o.Bracket[1]), PhaseVerify, true
		}
	}
	step, phase := o.Factor, PhaseRamp
	if o.Bracket[0] > 0 {
		step, phase = o.Widen, PhaseVerify
	}
	switch {
	case s.resolved():
		return 0, "", false
	case s.bad == 0:
		if s.good == 0 {
			return clamp(o.StartRate), PhaseRamp, true
		}
		if o.MaxRate > 0 && s.good >= o.MaxRate {
			return 0, "", false // capped by the search's maximum
		}
		return clamp(s.good * step), phase, true
	case s.good == 0:
		if s.bad/step < s.floor() {
			return 0, "", false // nothing is sustainable
		}
		return s.bad / step, phase, true
	}
	return math.Sqrt(s.good * s.bad), PhaseBisect, true
}
