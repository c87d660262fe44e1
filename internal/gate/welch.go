package gate

import "math"

// welch is Welch's two-sample t-test of the shift of means of x → y (on
// logs: the ratio), for the short segments of a history, where a rank
// test has no power (three against three can never reach 5 %).
type welch struct {
	diff, se, df float64
}

func newWelch(x, y []float64) welch {
	mx, my := mean(x), mean(y)
	vx, vy := variance(x, mx)/float64(len(x)), variance(y, my)/float64(len(y))
	w := welch{diff: my - mx, se: math.Sqrt(vx + vy)}
	if w.se > 0 {
		w.df = (vx + vy) * (vx + vy) / (vx*vx/float64(len(x)-1) + vy*vy/float64(len(y)-1))
	}
	return w
}

func variance(x []float64, m float64) float64 {
	var s float64
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return s / float64(len(x)-1)
}

// pBeyond is the p-value of "|shift| ≤ theta" (two one-sided tests, so
// that p ≤ a exactly when the 1−a interval lies beyond ±theta).
func (w welch) pBeyond(theta float64) float64 {
	if w.se == 0 {
		if math.Abs(w.diff) > theta {
			return 0
		}
		return 1
	}
	up := 1 - studentCDF((w.diff-theta)/w.se, w.df)
	down := studentCDF((w.diff+theta)/w.se, w.df)
	return math.Min(1, 2*math.Min(up, down))
}

// interval is the two-sided 1−a interval of the shift.
func (w welch) interval(a float64) (lo, hi float64) {
	if w.se == 0 {
		return w.diff, w.diff
	}
	q := studentQuantile(1-a/2, w.df)
	return w.diff - q*w.se, w.diff + q*w.se
}

// studentCDF is P(T ≤ t) for Student's t with df degrees of freedom.
func studentCDF(t, df float64) float64 {
	x := df / (df + t*t)
	p := 0.5 * regIncBeta(df/2, 0.5, x)
	if t > 0 {
		return 1 - p
	}
	return p
}

func studentQuantile(p, df float64) float64 {
	lo, hi := -1e3, 1e3
	for range 200 {
		mid := (lo + hi) / 2
		if studentCDF(mid, df) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// regIncBeta is the regularized incomplete beta function I_x(a, b), by
// its continued fraction (Lentz), with the symmetry for fast convergence.
func regIncBeta(a, b, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a + b)
	lb, _ := math.Lgamma(a)
	lc, _ := math.Lgamma(b)
	front := math.Exp(la - lb - lc + a*math.Log(x) + b*math.Log1p(-x))
	if x > (a+1)/(a+b+2) {
		return 1 - regIncBeta(b, a, 1-x)
	}
	const tiny = 1e-300
	f, c, d := 1.0, 1.0, 0.0
	for i := 0; i <= 300; i++ {
		m := float64(i / 2)
		var num float64
		switch {
		case i == 0:
			num = 1
		case i%2 == 0:
			num = m * (b - m) * x / ((a + 2*m - 1) * (a + 2*m))
		default:
			num = -(a + m) * (a + b + m) * x / ((a + 2*m) * (a + 2*m + 1))
		}
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		d = 1 / d
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		f *= c * d
		if math.Abs(1-c*d) < 1e-12 {
			break
		}
	}
	return front * (f - 1) / a
}
