package analysis

import (
	"fmt"
	"math"

	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/internal/targets"
)

// Verdict is a target result.
type Verdict int

// Verdicts. The zero value is Inconclusive, so a target nobody judged
// never reads as met. Unresolved and Undecidable are not results: the
// measurement could not decide the target, and the report lists them
// apart from the met, missed and inconclusive ones.
const (
	Inconclusive Verdict = iota
	Met
	Missed
	// Unresolved: the measurement is coarser than the resolution the
	// target needs (too few profile samples, an A/A floor wider than the
	// margin, a single round without an interval).
	Unresolved
	// Undecidable: the reference itself is a bound (a knee search hit its
	// cap), so no measurement of this run can decide the target.
	Undecidable
)

func (v Verdict) String() string {
	return [...]string{"inconclusive", "met", "MISSED", "unresolved", "undecidable"}[v]
}

// Decided reports whether v is a result (met, missed or inconclusive):
// only those count toward the report's banner.
func (v Verdict) Decided() bool { return v == Met || v == Missed || v == Inconclusive }

// Target is one judged entry of the targets file for one scenario and
// verifier.
type Target struct {
	// Entry is the thresholds file's entry name; Name what it requires,
	// e.g. "knee ≥ 0.95 × no-auth".
	Entry, Name        string
	Scenario, Verifier string
	Measured           string // the measured value with its interval
	Verdict            Verdict
	// Reason explains a verdict other than met.
	Reason string
	// Sanity marks a harness check (entry kind sanity).
	Sanity bool
	// Needed and Achieved are the resolution the target needs and the one
	// the measurement reached, in words ("0.25 % (400 samples)").
	Needed, Achieved string
}

// Pass reports whether the target was met.
func (t Target) Pass() bool { return t.Verdict == Met }

// AtLeast judges "value ≥ threshold" on an interval: met when the whole
// interval is at or above it, missed when wholly below, inconclusive when
// it straddles; unresolved without an interval.
func AtLeast(iv Interval, threshold float64) (Verdict, string) {
	return judge(iv, threshold, func(x float64) bool { return x >= threshold })
}

// AtMost judges "value ≤ threshold" likewise.
func AtMost(iv Interval, threshold float64) (Verdict, string) {
	return judge(iv, threshold, func(x float64) bool { return x <= threshold })
}

func judge(iv Interval, threshold float64, ok func(float64) bool) (Verdict, string) {
	switch {
	case !iv.Valid():
		return Unresolved, "no data"
	case !iv.HasRange():
		return Unresolved, "a single round has no interval"
	case ok(iv.Lo) && ok(iv.Hi):
		return Met, ""
	case !ok(iv.Lo) && !ok(iv.Hi):
		return Missed, fmt.Sprintf("the whole interval [%.4g, %.4g] is on the wrong side of %.4g", iv.Lo, iv.Hi, threshold)
	}
	return Inconclusive, fmt.Sprintf("the interval [%.4g, %.4g] straddles %.4g", iv.Lo, iv.Hi, threshold)
}

// RelativeHalfWidth is how far an interval reaches from its estimate, as
// a fraction of it (the larger side); +Inf without an interval.
func RelativeHalfWidth(iv Interval) float64 {
	if !iv.HasRange() || iv.Est <= 0 || iv.Lo <= 0 {
		return math.Inf(1)
	}
	return math.Max(iv.Hi/iv.Est, iv.Est/iv.Lo) - 1
}

// targetSet is the set of target scenarios entries with `target: true`
// are limited to: Options.TargetScenarios, else the runs' Target marks;
// nil (each entry's scenario list) for files without marks.
func targetSet(f *results.File, opts Options) map[string]bool {
	if len(opts.TargetScenarios) > 0 {
		m := map[string]bool{}
		for _, s := range opts.TargetScenarios {
			m[s] = true
		}
		return m
	}
	return targets.TargetScenarios(f)
}

// judgeScenario judges the report's entries (checked_by: report) on the
// headline rows of one scenario. A row without data for an entry is not
// listed. Ticket strategies have no crypt and are judged by the ticket
// tables, so their rows are skipped in whatever scenario they ran.
func judgeScenario(ss ScenarioSummary, file targets.File, scope map[string]bool) []Target {
	var out []Target
	ctrl, _ := ss.Row(results.ControlVerifier)
	for _, e := range file.Thresholds {
		if !e.ByReport() {
			continue
		}
		for _, r := range ss.Rows {
			if IsTicket(r.Verifier) || !e.Applies(ss.Name, r.Verifier, scope) {
				continue
			}
			t, ok := judgeRow(e, ss, r, ctrl)
			if !ok {
				continue
			}
			t.Entry, t.Scenario, t.Verifier, t.Sanity = e.Name, r.Scenario, r.Verifier, e.Sanity()
			out = append(out, t)
		}
	}
	return out
}

// judgeRow judges entry e on row r; ok is false when r has no data for it.
func judgeRow(e targets.Entry, ss ScenarioSummary, r, ctrl HeadlineRow) (t Target, ok bool) {
	switch e.Metric {
	case targets.HitSpeedup:
		iv := r.VsBaseline[MetricCPU]
		if !iv.Valid() || !IsCached(r.Verifier) {
			return t, false
		}
		t.Name = fmt.Sprintf("CPU/request ≥ %g× cheaper than uncached", e.Value)
		t.Measured = fmt.Sprintf("%s uncached (%s)", FormatRatio(iv), FormatCoverage(iv))
		half := RelativeHalfWidth(iv)
		ratioResolution(&t, e, half, "the interval's half-width")
		return finish(t, iv, widenRatio(iv, half), func(iv Interval) (Verdict, string) { return AtMost(iv, 1/e.Value) }), true
	case targets.KneeRatio:
		iv := r.VsControl[MetricKnee]
		if !iv.Valid() || r.Knee.N == 0 || !r.KneeFromSearch || !IsCached(r.Verifier) {
			return t, false
		}
		t.Name = fmt.Sprintf("knee ≥ %.2f × no-auth", e.Value)
		t.Measured = fmt.Sprintf("%s (%s vs %s req/s, %s)", FormatRatio(iv), fmtRate(r.Knee.Median), fmtRate(r.Knee.Median/r.KneeRatio), FormatCoverage(iv))
		// The ratio is resolved as finely as the coarser of the noise
		// (A/A floor, else the interval) and the searches' brackets.
		got, what := RelativeHalfWidth(iv), "the interval's half-width, no A/A copy"
		if x, known := NoiseWidth(ss.Noise[MetricKnee]); known {
			got, what = x, "the A/A floor"
		}
		if b := math.Max(r.KneeBracket, ctrl.KneeBracket); b > got {
			got, what = b, "the knee searches' bracket"
		}
		ratioResolution(&t, e, got, what)
		switch {
		case ctrl.KneeCapped:
			t.Verdict, t.Reason = Undecidable, "the no-auth search hit its cap (search maximum or generator ceiling): its knee is a lower bound, so the ratio is only an upper bound"
			return t, true
		case r.KneeCapped:
			t.Verdict, t.Reason = Undecidable, "this verifier's search hit its cap (search maximum or generator ceiling): its knee is a lower bound"
			return t, true
		}
		return finish(t, iv, widenRatio(iv, got), func(iv Interval) (Verdict, string) { return AtLeast(iv, e.Value) }), true
	case targets.CryptShareMax, targets.CryptShareMin:
		iv := r.CryptInterval
		if r.Crypt.N == 0 || r.CryptSamples == 0 || IsControl(r.Verifier) {
			return t, false
		}
		rel := "≤"
		judgeFn := func(iv Interval) (Verdict, string) { return AtMost(iv, e.Value) }
		if e.Metric == targets.CryptShareMin {
			rel = "≥"
			judgeFn = func(iv Interval) (Verdict, string) { return AtLeast(iv, e.Value) }
		}
		t.Name = fmt.Sprintf("crypt share %s %s", rel, fmtSharePct(e.Value))
		t.Measured = fmt.Sprintf("%s at %s req/s", fmtShareInterval(iv), fmtRate(r.RefRPS))
		if r.CryptFromKnee {
			t.Measured = fmtShareInterval(iv) + " over the knee searches' sustained steps"
		}
		got := 1 / float64(r.CryptSamples)
		t.Needed = fmt.Sprintf("%s (≥ %.0f samples per window)", fmtSharePct(e.Resolution), math.Ceil(1/e.Resolution))
		t.Achieved = fmt.Sprintf("%s (%d samples in the sparsest window)", fmtSharePct(got), r.CryptSamples)
		if got > e.Resolution*(1+1e-9) {
			t.Verdict, t.Reason = Unresolved, fmt.Sprintf("one profile sample is %s of the CPU, the target needs %s", fmtSharePct(got), fmtSharePct(e.Resolution))
		}
		wide := iv
		wide.Lo, wide.Hi = iv.Lo-got, iv.Hi+got
		return finish(t, iv, wide, judgeFn), true
	}
	return t, false
}

// ratioResolution fills the resolution fields of a ratio target; an
// achieved resolution coarser than needed leaves the verdict Unresolved.
func ratioResolution(t *Target, e targets.Entry, got float64, what string) {
	t.Needed = fmt.Sprintf("± %.1f %%", 100*e.Resolution)
	if math.IsInf(got, 1) {
		t.Achieved = "none (no interval)"
	} else {
		t.Achieved = fmt.Sprintf("± %.1f %% (%s)", 100*got, what)
	}
	if got > e.Resolution*(1+1e-9) {
		t.Verdict = Unresolved
		t.Reason = "the measurement resolves " + t.Achieved + ", the target needs " + t.Needed
	}
}

// finish judges t. A measurement coarser than the target needs cannot
// show it met, but it can show it missed: when the interval widened by
// the measurement's resolution (wide) still lies wholly on the wrong
// side, the miss stands whatever the finer truth. Otherwise an
// unresolved t stays unresolved. A resolved t is judged on its interval
// iv itself.
func finish(t Target, iv, wide Interval, judgeFn func(Interval) (Verdict, string)) Target {
	if t.Verdict == Unresolved {
		if v, why := judgeFn(wide); v == Missed {
			t.Verdict, t.Reason = Missed, "missed by more than the measurement's resolution: "+why
		}
		return t
	}
	t.Verdict, t.Reason = judgeFn(iv)
	return t
}

// widenRatio widens a ratio's interval by the relative resolution x.
func widenRatio(iv Interval, x float64) Interval {
	if math.IsInf(x, 1) || math.IsNaN(x) {
		return noInterval
	}
	iv.Lo, iv.Hi = iv.Lo/(1+x), iv.Hi*(1+x)
	return iv
}

func fmtSharePct(x float64) string {
	if x < 0.1 {
		return fmt.Sprintf("%.2g %%", 100*x)
	}
	return fmt.Sprintf("%.0f %%", 100*x)
}

func fmtShareInterval(iv Interval) string {
	if !iv.HasRange() {
		return fmt.Sprintf("%.2f %% [n/a (1 round)]", 100*iv.Est)
	}
	return fmt.Sprintf("%.2f %% [%.2f–%.2f %%]", 100*iv.Est, 100*iv.Lo, 100*iv.Hi)
}

func fmtRate(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return fmt.Sprintf("%.0f", x)
}

// KneeTarget is the value of the knee-vs-control entry of
// gate/thresholds.yaml. It exists only for internal/plotting's reference
// line until that reads targets.Default(); a test keeps it equal to the
// file.
const KneeTarget = 0.95
