package report

import (
	"fmt"
	"strings"

	"github.com/authbench/authbench/internal/gaterates"
)

// GateFromRates states the regression gate's calibrated rates (the file
// make gate-calibrate commits) as the verdict block's gate sentence: per
// method its A/A false alarms, the detection of the largest planted
// slowdown and the smallest change caught with 80 % power, each k/n with
// its 95 % interval. Pass is false when any of the file's targets was
// missed; unresolved targets are named, not passed. nil for a nil file.
func GateFromRates(f *gaterates.File) *GateVerdict {
	if f == nil || len(f.Methods) == 0 {
		return nil
	}
	pass := true
	var parts []string
	for _, m := range f.Methods {
		// Unit, rounds and minimum effect are in docs/gate.md and the
		// rates file; the verdict block keeps to the rates so it and the
		// headline fit the first screen.
		s := fmt.Sprintf("%s: false alarms %s", methodName(m.Method), m.FalseAlarm)
		if n := len(m.Detection); n > 0 {
			top := m.Detection[n-1]
			s += fmt.Sprintf(", +%g %% caught %s", 100*top.Slowdown, top.Detected)
		}
		s += ", 80 % power at " + m.MDEText()
		var ts []string
		allMet := len(m.Targets) > 0
		for _, t := range m.Targets {
			ts = append(ts, t.Name+" "+t.Verdict)
			if t.Verdict == "missed" {
				pass = false
			}
			allMet = allMet && t.Verdict == "met"
		}
		switch {
		case allMet:
			s += "; targets met"
		case len(ts) > 0:
			s += "; targets: " + strings.Join(ts, ", ")
		}
		parts = append(parts, s)
	}
	cond := "quiet machine"
	if f.Neighbour {
		cond = "with the noisy neighbour"
	}
	text := fmt.Sprintf("calibrated %s on %s, %s (%s): %s.", dateOnly(f.Date), f.Machine, cond, gaterates.Path, strings.Join(parts, "; "))
	return &GateVerdict{Pass: pass, Text: text}
}

func methodName(m string) string {
	if m == "ab" {
		return "time, in-process A/B"
	}
	return m
}

func dateOnly(rfc3339 string) string {
	if i := strings.IndexByte(rfc3339, 'T'); i > 0 {
		return rfc3339[:i]
	}
	return rfc3339
}
