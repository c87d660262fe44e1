package analysis

import (
	"errors"
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/authbench/authbench/internal/results"
)

// DefaultTolerance is how far two runs' estimates of one ratio may differ
// (relative) before compare calls them in disagreement.
const DefaultTolerance = 0.10

// ErrNoRounds marks a results file measured before interleaved rounds:
// its ratios have no per-round intervals to compare.
var ErrNoRounds = errors.New("results have no interleaved rounds (older schema): re-run with a current `bench run` to compare")

// CompareRow is one ratio in both runs.
type CompareRow struct {
	Scenario, Verifier string
	// Ref is the denominator: results.ControlVerifier or the verifier's
	// baseline (BaselineOf).
	Ref    string
	Metric Metric
	A, B   Interval
	Agree  bool
	// Why says what disagrees; empty when they agree.
	Why string
}

// Comparison is two runs' ratios side by side.
type Comparison struct {
	RunA, RunB string
	Tolerance  float64
	Rows       []CompareRow
	// Missing lists ratios only one run has, as "scenario/verifier metric".
	Missing []string
}

// Agree reports whether every shared ratio agrees.
func (c Comparison) Agree() bool {
	for _, r := range c.Rows {
		if !r.Agree {
			return false
		}
	}
	return true
}

// Disagreements counts the rows that disagree.
func (c Comparison) Disagreements() int {
	n := 0
	for _, r := range c.Rows {
		if !r.Agree {
			n++
		}
	}
	return n
}

// Compare puts the ratios of runs a and b side by side. Two estimates
// disagree when both have intervals and these do not overlap, or when the
// estimates differ by more than tol (relative to a's; tol ≤ 0 means
// DefaultTolerance). Files without interleaved rounds are refused with
// ErrNoRounds.
func Compare(a, b *results.File, tol float64) (Comparison, error) {
	if tol <= 0 {
		tol = DefaultTolerance
	}
	for _, f := range []*results.File{a, b} {
		if !HasRounds(f) {
			return Comparison{}, fmt.Errorf("run %q: %w", f.RunID, ErrNoRounds)
		}
	}
	c := Comparison{RunA: a.RunID, RunB: b.RunID, Tolerance: tol}
	ra, rb := ratios(a), ratios(b)
	for _, k := range ra.order {
		ia := ra.by[k]
		ib, ok := rb.by[k]
		if !ok {
			c.Missing = append(c.Missing, k.String()+" (only in "+a.RunID+")")
			continue
		}
		row := CompareRow{Scenario: k.scenario, Verifier: k.verifier, Ref: k.ref, Metric: k.metric, A: ia, B: ib, Agree: true}
		if ia.HasRange() && ib.HasRange() && !ia.Overlaps(ib) {
			row.Agree, row.Why = false, "intervals do not overlap"
		}
		if d := ib.Est/ia.Est - 1; math.Abs(d) > tol {
			why := fmt.Sprintf("estimates differ by %+.1f %% (tolerance ±%.0f %%)", 100*d, 100*tol)
			if row.Why != "" {
				why = row.Why + "; " + why
			}
			row.Agree, row.Why = false, why
		}
		c.Rows = append(c.Rows, row)
	}
	for _, k := range rb.order {
		if _, ok := ra.by[k]; !ok {
			c.Missing = append(c.Missing, k.String()+" (only in "+b.RunID+")")
		}
	}
	return c, nil
}

type ratioKey struct {
	scenario, verifier, ref string
	metric                  Metric
}

func (k ratioKey) String() string {
	return fmt.Sprintf("%s/%s %s vs %s", k.scenario, k.verifier, k.metric.Label(), k.ref)
}

type ratioSet struct {
	order []ratioKey
	by    map[ratioKey]Interval
}

// ratios collects every valid ratio the report states, the A/A rows
// included (as the copy against the control).
func ratios(f *results.File) ratioSet {
	s := ratioSet{by: map[ratioKey]Interval{}}
	add := func(k ratioKey, iv Interval) {
		if iv.Valid() {
			s.order = append(s.order, k)
			s.by[k] = iv
		}
	}
	for _, ss := range Summarize(f, Options{}).Scenarios {
		for _, r := range ss.Rows {
			if r.Verifier == results.ControlVerifier {
				continue
			}
			for _, m := range Metrics {
				add(ratioKey{ss.Name, r.Verifier, results.ControlVerifier, m}, r.VsControl[m])
				if r.Verifier != BaselineOf(r.Verifier) && !IsControl(r.Verifier) {
					add(ratioKey{ss.Name, r.Verifier, BaselineOf(r.Verifier), m}, r.VsBaseline[m])
				}
			}
		}
	}
	return s
}

// WriteComparison prints c as an aligned table followed by a verdict line.
func WriteComparison(w io.Writer, c Comparison) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\tverifier\tratio\tA: %s\tB: %s\t\n", c.RunA, c.RunB)
	for _, r := range c.Rows {
		mark := "agree"
		if !r.Agree {
			mark = "DISAGREE: " + r.Why
		}
		fmt.Fprintf(tw, "%s\t%s\t%s / %s\t%s\t%s\t%s\n", r.Scenario, r.Verifier, r.Metric.Label(), r.Ref,
			FormatRatio(r.A), FormatRatio(r.B), mark)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write comparison: %w", err)
	}
	for _, m := range c.Missing {
		fmt.Fprintf(w, "not compared: %s\n", m)
	}
	var err error
	if n := c.Disagreements(); n > 0 {
		_, err = fmt.Fprintf(w, "%d of %d ratios disagree (tolerance ±%.0f %%, intervals must overlap)\n", n, len(c.Rows), 100*c.Tolerance)
	} else {
		_, err = fmt.Fprintf(w, "all %d ratios agree (tolerance ±%.0f %%, intervals overlap)\n", len(c.Rows), 100*c.Tolerance)
	}
	if err != nil {
		return fmt.Errorf("write comparison: %w", err)
	}
	return nil
}
