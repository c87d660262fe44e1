package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/authbench/authbench/internal/analysis"
)

// ---- formatting ----

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// fmtNum formats a rate: whole numbers from 100 up, else three significant digits.
func fmtNum(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "—"
	case math.Abs(x) >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	default:
		return strconv.FormatFloat(x, 'g', 3, 64)
	}
}

// fmtCPU formats CPU-seconds per 1000 requests as CPU time per request.
func fmtCPU(s1k float64) string {
	if math.IsNaN(s1k) || s1k <= 0 {
		return "—"
	}
	return fmtNS(s1k * 1e6) // s per 1000 req = 1e6 ns per req
}

// fmtNS formats a duration given in nanoseconds.
func fmtNS(ns float64) string {
	switch {
	case math.IsNaN(ns) || ns <= 0:
		return "—"
	case ns < 1000:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 1e4:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	case ns < 1e6:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	}
}

// fmtPct formats a 0..1 fraction as a percentage; small values keep two
// decimals so the 1 % target stays readable.
func fmtPct(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "—"
	case x < 0.1:
		return fmt.Sprintf("%.2f %%", x*100)
	default:
		return fmt.Sprintf("%.1f %%", x*100)
	}
}

// fmtLat formats a latency given in microseconds.
func fmtLat(us float64) string {
	switch {
	case math.IsNaN(us) || math.IsInf(us, 0) || us <= 0:
		return "—"
	case us < 1000:
		return fmt.Sprintf("%.0f µs", us)
	case us < 1e6:
		return fmt.Sprintf("%.2f ms", us/1000)
	default:
		return fmt.Sprintf("%.2f s", us/1e6)
	}
}

func fmtMS(ms float64) string {
	if ms >= 1000 {
		return fmt.Sprintf("%.2f s", ms/1000)
	}
	return fmt.Sprintf("%.1f ms", ms)
}

func fmtMSPtr(p *float64, ifNil string) string {
	if p == nil {
		return ifNil
	}
	return fmtMS(*p)
}

// fmtMedian shows only the median (the headline keeps its cells short;
// the scenario sections show the spread).
func fmtMedian(s analysis.Spread, f func(float64) string) string {
	if s.N == 0 {
		return "—"
	}
	return f(s.Median)
}

// fmtSpread shows the median and, when repeats differ, [min–max].
func fmtSpread(s analysis.Spread, f func(float64) string) string {
	if s.N == 0 {
		return "—"
	}
	if s.N == 1 || s.Min == s.Max {
		return f(s.Median)
	}
	return fmt.Sprintf("%s [%s–%s]", f(s.Median), f(s.Min), f(s.Max))
}

// fmtShare shows a crypt share with its interval (the report's one
// crypt-share estimator, analysis.HeadlineRow.CryptInterval).
func fmtShare(iv analysis.Interval) string {
	switch {
	case !iv.Valid():
		return "—"
	case !iv.HasRange():
		return fmtPct(iv.Est) + " [n/a]"
	}
	return fmt.Sprintf("%s [%s–%s]", fmtPct(iv.Est), strings.TrimSuffix(fmtPct(iv.Lo), " %"), fmtPct(iv.Hi))
}

// fmtMSRound rounds a probe spacing up to whole milliseconds: a bound on
// staleness, not a measurement of it.
func fmtMSRound(ms float64) string {
	return fmt.Sprintf("%.0f ms", math.Ceil(ms))
}
