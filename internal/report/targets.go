package report

import (
	"fmt"
	"strings"

	"github.com/authbench/authbench/internal/analysis"
)

// maxOpenListed and maxMissedListed are how many inconclusive and missed
// targets the Targets section lists uncollapsed.
const (
	maxOpenListed   = 3
	maxMissedListed = 5
)

// openTargets states the banner in one line: how many of the decidable
// targets were missed or inconclusive. Targets the measurement cannot
// decide and sanity checks are not counted; the lists, with reasons,
// open the Targets section (one line here keeps the headline table and
// the chart in the first screen, which the browser check asserts).
func openTargets(d *document, sum analysis.Summary) {
	missed, open, decided, undecided := countTargets(sum.Targets)
	if missed == 0 && open == 0 {
		return
	}
	class, head := "warn", fmt.Sprintf("%d of %d decidable targets inconclusive", open, decided)
	if missed > 0 {
		class, head = "fail", fmt.Sprintf("%d of %d decidable targets MISSED", missed, decided)
		if open > 0 {
			head += fmt.Sprintf(", %d inconclusive", open)
		}
	}
	tail := " — listed with their reasons under Targets"
	if undecided > 0 {
		tail += fmt.Sprintf("; %d more this run cannot decide, not counted", undecided)
	}
	d.callout(class, cell{{Text: head, Strong: true, Class: class}, {Text: tail + "."}})
}

// countTargets counts missed, inconclusive, decidable and undecidable
// targets.
func countTargets(ts []analysis.Target) (missed, open, decided, undecided int) {
	for _, t := range ts {
		switch {
		case !t.Verdict.Decided():
			undecided++
			continue
		case t.Verdict == analysis.Missed:
			missed++
		case t.Verdict == analysis.Inconclusive:
			open++
		}
		decided++
	}
	return missed, open, decided, undecided
}

// targetItem is one target line: verdict, what, where, the measurement,
// the resolution it needed and reached, and why when not met.
func targetItem(t analysis.Target) cell {
	c := cell{verdictSpan(t.Verdict), {Text: fmt.Sprintf(" %s — %s / %s: %s", t.Name, t.Scenario, t.Verifier, t.Measured)}}
	if t.Needed != "" {
		c = append(c, span{Text: fmt.Sprintf("; resolution needed %s, achieved %s", t.Needed, t.Achieved)})
	}
	// A plain miss's reason is its interval, already shown; a miss
	// despite a coarse measurement says so.
	if t.Verdict != analysis.Met && (t.Verdict != analysis.Missed || !strings.HasPrefix(t.Reason, "the whole interval")) {
		c = append(c, span{Text: reasonSuffix(t.Reason)})
	}
	return c
}

// targetList lists ts, inside a collapsed <details> when there are more
// than limit of them. Short lists stay open; longer ones are collapsed so
// the headline table and the trade-off chart stay inside the first screen
// (the browser check asserts it).
func targetList(d *document, label string, ts []analysis.Target, limit int) {
	if len(ts) == 0 {
		return
	}
	items := make([]cell, len(ts))
	for i, t := range ts {
		items[i] = targetItem(t)
	}
	if len(items) <= limit {
		d.listClass("compact", items)
		return
	}
	d.details(fmt.Sprintf("%d %s", len(items), label))
	d.listClass("compact", items)
	d.endDetails()
}

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	return " (" + r + ")"
}

func verdictSpan(v analysis.Verdict) span {
	switch v {
	case analysis.Met:
		return span{Text: "✅ met", Class: "pass"}
	case analysis.Missed:
		return span{Text: "❌ MISSED", Strong: true, Class: "fail"}
	case analysis.Unresolved:
		return span{Text: "◌ unresolved"}
	case analysis.Undecidable:
		return span{Text: "◌ undecidable"}
	}
	return span{Text: "❔ inconclusive", Class: "warn"}
}

// targetSection lists every judged target by verdict (those not met were
// listed at the top), then the targets this run could not decide, then
// the sanity checks apart, and the revocation checks.
func targetSection(d *document, sum analysis.Summary) {
	d.h(2, "Targets")
	d.pClass("note", txt("Targets and sanity checks come from gate/thresholds.yaml, the file the regression gate reads (entries with checked_by: report). "+
		"Each states the resolution it needs: a measurement coarser than that is unresolved, a reference that is itself a bound (a capped knee search) undecidable; neither counts as met or missed."))
	if len(sum.Targets) == 0 && len(sum.Sanity) == 0 {
		d.p(txt("No target could be checked: the runs lack a no-auth control knee, uncached CPU and CPU samples."))
	}
	var met, missed, open, undecided []analysis.Target
	for _, t := range sum.Targets {
		switch {
		case t.Verdict == analysis.Met:
			met = append(met, t)
		case t.Verdict == analysis.Missed:
			missed = append(missed, t)
		case t.Verdict == analysis.Inconclusive:
			open = append(open, t)
		default:
			undecided = append(undecided, t)
		}
	}
	if decided := len(met) + len(missed) + len(open); decided > 0 {
		cls := ""
		if len(met) == decided {
			cls = "pass"
		}
		d.p(cell{{Text: fmt.Sprintf("%d of %d decidable targets met", len(met), decided), Class: cls},
			{Text: " (missed: the whole interval is on the wrong side of the target; inconclusive: it straddles the target)."}})
	}
	targetList(d, "missed targets", missed, maxMissedListed)
	targetList(d, "inconclusive targets", open, maxOpenListed)
	targetList(d, "targets met", met, 0)
	targetList(d, "targets this run cannot decide (unresolved or undecidable)", undecided, 0)
	if len(sum.Sanity) > 0 {
		d.h(3, "Sanity checks of the harness (not results)")
		targetList(d, "sanity checks", sum.Sanity, 3)
	}
	switch {
	case sum.Revocations == 0:
		d.p(txt("Revocation checks: none were run."))
	case len(sum.Failed) == 0:
		d.p(cell{{Text: "Revocation checks: "}, {Text: fmt.Sprintf("✅ all %d passed", sum.Revocations), Class: "pass"}})
	default:
		d.p(cell{{Text: "Revocation checks: "}, {Text: fmt.Sprintf("❌ FAIL — %d of %d failed:", len(sum.Failed), sum.Revocations), Strong: true, Class: "fail"}})
		var items []cell
		for _, rv := range sum.Failed {
			items = append(items, cell{{Text: "❌ FAIL", Strong: true, Class: "fail"}, {Text: fmt.Sprintf(" %s / %s / %s: %s", rv.Scenario, rv.Verifier, rv.Event, revocationSummary(rv))}})
		}
		d.listClass("compact", items)
	}
}
