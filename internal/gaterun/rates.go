package gaterun

import (
	"fmt"
	"slices"
	"strings"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/gaterates"
)

// MDEPower is the power at which the smallest detectable change is read
// off the planted slowdowns.
const MDEPower = 0.80

func rateOf(k, n int) gaterates.Rate {
	p := analysis.ClopperPearson(k, n)
	if n == 0 {
		return gaterates.Rate{}
	}
	return gaterates.Rate{K: k, N: n, Lo: p.Lo, Hi: p.Hi}
}

// Rates is the calibration as the rates file: every rate with its exact
// 95 % interval, the smallest planted slowdown detected with 80 % power,
// and the targets judged on the intervals (met, missed, unresolved).
func (c *Calibration) Rates() *gaterates.File {
	corr := "holm"
	if c.FDR {
		corr = "benjamini-hochberg"
	}
	f := &gaterates.File{Version: gaterates.Version, Date: c.Date, Machine: fmt.Sprintf("%s/%s, %d CPUs", c.GOOS, c.GOARCH, c.NumCPU),
		Neighbour: c.Neighbour, Alpha: c.Alpha, Correction: corr, Seconds: c.Seconds}
	for _, r := range c.Methods {
		m := gaterates.Method{Method: string(r.Method), Unit: r.Unit, Rounds: r.Rounds, MinEffect: r.MinEffect, Trials: r.TrialsNote,
			FalseAlarm: rateOf(r.FalseAlarms, r.Trials), CV: r.CV}
		below := true // every smaller level's upper bound < 80 %
		for _, p := range r.Planted {
			d := rateOf(p.Detected, p.Trials)
			m.Detection = append(m.Detection, gaterates.Planted{Slowdown: p.Slowdown, Detected: d, MedianRatio: p.MedianRatio, Note: p.Note})
			if m.MDE80 == 0 && d.Est() >= MDEPower {
				m.MDE80, m.MDE80Resolved = p.Slowdown, below && d.Lo >= MDEPower
			}
			below = below && d.Hi < MDEPower
		}
		m.Targets = []gaterates.Target{{Name: fmt.Sprintf("false alarms ≤ %g %%", 100*TargetFalseAlarm), Verdict: m.FalseAlarm.AtMost(TargetFalseAlarm)}}
		for _, p := range m.Detection {
			if p.Slowdown == c.Slowdown {
				m.Targets = append(m.Targets, gaterates.Target{Name: fmt.Sprintf("+%g %% detected ≥ %g %%", 100*p.Slowdown, 100*TargetDetection), Verdict: p.Detected.AtLeast(TargetDetection)})
			}
		}
		f.Methods = append(f.Methods, m)
	}
	return f
}

// writeRates writes the rates with their intervals, one row per method
// and planted slowdown, and the smallest change detected with 80 % power.
func writeRates(b *strings.Builder, cal *Calibration) {
	f := cal.Rates()
	if !slices.ContainsFunc(f.Methods, func(m gaterates.Method) bool { return len(m.Detection) > 0 }) {
		return
	}
	fmt.Fprintf(b, "\n### Rates with 95 %% intervals (Clopper–Pearson), %s correction\n\n", f.Correction)
	b.WriteString("| method | A/A false alarms | planted | detected | A'/A median | smallest change at 80 % power | targets |\n|---|---|---|---|---|---|---|\n")
	for _, m := range f.Methods {
		for i, p := range m.Detection {
			first := i == 0
			col := func(s string) string {
				if first {
					return s
				}
				return ""
			}
			note := ""
			if p.Note != "" {
				note = " (" + p.Note + ")"
			}
			fmt.Fprintf(b, "| %s | %s | +%g %% | %s%s | %.3f | %s | %s |\n", col(m.Method), col(m.FalseAlarm.String()),
				100*p.Slowdown, p.Detected, note, p.MedianRatio, col(MDEString(m)), col(targetsString(m.Targets)))
		}
	}
	b.WriteString("\nTargets are judged on the interval: met or missed only when the whole interval is on one side, else unresolved.\n")
	for _, m := range f.Methods {
		if m.Trials != "" {
			fmt.Fprintf(b, "- %s trials: %s\n", m.Method, m.Trials)
		}
	}
}

// MDEString is a method's smallest detectable change as printed
// (gaterates.Method.MDEText, shared with the report).
func MDEString(m gaterates.Method) string { return m.MDEText() }

func targetsString(ts []gaterates.Target) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.Name + ": " + t.Verdict
	}
	return strings.Join(s, "; ")
}

// meets reports whether r meets the targets with its whole 95 % interval:
// a point estimate of 0/20 false alarms does not show ≤ 1 %.
func meets(r MethodResult) bool {
	return verdictOf(r) == "met"
}

// verdictOf judges the targets on the intervals: met, missed or
// unresolved.
func verdictOf(r MethodResult) string {
	fa := rateOf(r.FalseAlarms, r.Trials).AtMost(TargetFalseAlarm)
	det := rateOf(r.DetectedAll, r.Trials).AtLeast(TargetDetection)
	switch {
	case fa == "missed" || det == "missed" || r.GateSeconds > TargetGate.Seconds():
		return "missed"
	case fa == "met" && det == "met":
		return "met"
	}
	return "unresolved"
}
