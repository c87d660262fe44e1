package report

import (
	"strings"
	"testing"

	"github.com/authbench/authbench/internal/gaterates"
)

// TestGateFromRates: every method's rates appear with n and interval; a
// missed target fails the sentence, an unresolved one does not pass it
// silently (it is named).
func TestGateFromRates(t *testing.T) {
	if GateFromRates(nil) != nil {
		t.Error("nil rates file gave a sentence")
	}
	f := &gaterates.File{Date: "2026-12-03T10:15:05Z", Machine: "linux/amd64, 2 CPUs", Methods: []gaterates.Method{
		{Method: "instructions", Unit: "instructions/op", Rounds: 6, MinEffect: 0.01,
			FalseAlarm: gaterates.Rate{K: 0, N: 200, Lo: 0, Hi: 0.0183},
			Detection:  []gaterates.Planted{{Slowdown: 0.02, Detected: gaterates.Rate{K: 133, N: 200, Lo: 0.595, Hi: 0.73}}, {Slowdown: 0.05, Detected: gaterates.Rate{K: 200, N: 200, Lo: 0.98, Hi: 1}}},
			MDE80:      0.05, MDE80Resolved: true,
			Targets: []gaterates.Target{{Name: "false alarms ≤ 1 %", Verdict: "unresolved"}}},
		{Method: "ab", Unit: "sec/op", Rounds: 10, MinEffect: 0.03, FalseAlarm: gaterates.Rate{N: 20, Hi: 0.168},
			Detection: []gaterates.Planted{{Slowdown: 0.1, Detected: gaterates.Rate{K: 13, N: 20, Lo: 0.408, Hi: 0.846}}},
			Targets:   []gaterates.Target{{Name: "+10 % detected ≥ 95 %", Verdict: "missed"}}},
	}}
	g := GateFromRates(f)
	for _, want := range []string{"0/200 = 0.0 % [0.0, 1.8] %", "+5 % caught 200/200", "80 % power at +5 %", "targets: false alarms ≤ 1 % unresolved", "+10 % detected ≥ 95 % missed",
		"time, in-process A/B", "13/20 = 65.0 % [40.8, 84.6] %", "> +10 % (none of the planted)", "2026-12-03", "quiet machine"} {
		if !strings.Contains(g.Text, want) {
			t.Errorf("gate sentence lacks %q:\n%s", want, g.Text)
		}
	}
	if g.Pass {
		t.Error("a missed target passed")
	}
	f.Methods = f.Methods[:1]
	if !GateFromRates(f).Pass {
		t.Error("only unresolved targets failed the sentence")
	}
}

// TestGateFromRatesAllMet: a method whose targets are all met says so in
// two words instead of listing them.
func TestGateFromRatesAllMet(t *testing.T) {
	f := &gaterates.File{Date: "2026-12-03T10:15:05Z", Machine: "linux/amd64, 2 CPUs", Methods: []gaterates.Method{
		{Method: "instructions", FalseAlarm: gaterates.Rate{N: 400, Hi: 0.0092},
			Targets: []gaterates.Target{{Name: "false alarms ≤ 1 %", Verdict: "met"}, {Name: "+10 % detected ≥ 95 %", Verdict: "met"}}},
	}}
	g := GateFromRates(f)
	if !strings.Contains(g.Text, "; targets met") || strings.Contains(g.Text, "≤ 1 %") || !g.Pass {
		t.Errorf("all-met sentence %q (pass %v)", g.Text, g.Pass)
	}
}
