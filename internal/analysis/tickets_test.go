package analysis

import (
	"math"
	"slices"
	"testing"

	"github.com/authbench/authbench/impl/ticket"
	"github.com/authbench/authbench/internal/results"
)

func TestClopperPearson(t *testing.T) {
	for _, tc := range []struct {
		k, n        int
		est, lo, hi float64
	}{
		{0, 4, 0, 0, 0.6024},
		{4, 4, 1, 0.3976, 1},
		{2, 4, 0.5, 0.0676, 0.9324},
		{1, 10, 0.1, 0.0025, 0.4450},
	} {
		p := ClopperPearson(tc.k, tc.n)
		if math.Abs(p.Est-tc.est) > 1e-9 || math.Abs(p.Lo-tc.lo) > 5e-4 || math.Abs(p.Hi-tc.hi) > 5e-4 {
			t.Errorf("%d of %d: %+v, want %v [%v, %v]", tc.k, tc.n, p, tc.est, tc.lo, tc.hi)
		}
	}
	if p := ClopperPearson(0, 0); !math.IsNaN(p.Est) {
		t.Errorf("no trials: %+v", p)
	}
}

// ticketFixture: two rounds of the control and two strategies, with knees.
func ticketFixture() *results.File {
	var runs []results.Run
	add := func(v string, round int, cpu, knee float64, share *results.TicketCPUShare) {
		runs = append(runs,
			results.Run{Scenario: "steady-ticket", Verifier: v, Phase: results.PhaseConstant, Round: round, Repeat: round, CPUSecondsPer1kReq: cpu, TicketCPUShare: share},
			results.Run{Scenario: "steady-ticket", Verifier: v, Phase: results.PhaseKnee, Round: round, Repeat: round, KneeRPS: knee, KneeCapped: knee >= 9000})
	}
	for round := 1; round <= 2; round++ {
		add(results.ControlVerifier, round, 0.1, 9000, nil)
		add("ticket/mtime", round, 0.2, 6000, &results.TicketCPUShare{Verify: 0.5, Other: 0.5})
		add("ticket/uncached", round, 0.4, 3000, &results.TicketCPUShare{Verify: 0.4, PEM: 0.2, Other: 0.4})
	}
	return &results.File{Runs: runs, Clusters: []results.ClusterRun{
		{Scenario: "cluster", Event: "key-touch-yesterday", Verifier: "ticket/mtime-reopen", AttrTimeoutMs: 1000, Trials: 2},
		{Scenario: "cluster", Event: "key-touch-yesterday", Verifier: "ticket/mtime", AttrTimeoutMs: 1000, Trials: 2, DoubleRotationTrials: 1},
		{Scenario: "cluster", Event: "key-touch-yesterday", Verifier: "ticket/mtime", AttrTimeoutMs: 0, Trials: 2,
			BeforeCheck: &results.ClusterWindow{RejectedValid: 30, RejectedAge: 30, Total: 40}},
	}}
}

func TestTicketTable(t *testing.T) {
	f := ticketFixture()
	if got := TicketScenarios(f); len(got) != 1 || got[0] != "steady-ticket" {
		t.Fatalf("ticket scenarios %v", got)
	}
	rows := TicketTable(f, "steady-ticket")
	if len(rows) != 2 || rows[0].Verifier != "ticket/uncached" || rows[1].Verifier != "ticket/mtime" {
		t.Fatalf("rows %+v (want impl/ticket's order)", rows)
	}
	for _, tc := range []struct {
		row       TicketRow
		cpu, knee float64
		capped    bool
	}{{rows[0], 4, 3000.0 / 9000, false}, {rows[1], 2, 6000.0 / 9000, false}} {
		if math.Abs(tc.row.CPUvsControl.Est-tc.cpu) > 1e-9 || math.Abs(tc.row.KneeVsControl.Est-tc.knee) > 1e-9 || tc.row.KneeCapped != tc.capped {
			t.Errorf("%s: cpu %v knee %v capped %v", tc.row.Verifier, tc.row.CPUvsControl, tc.row.KneeVsControl, tc.row.KneeCapped)
		}
	}
	if s := rows[0].Share; s == nil || math.Abs(s.PEM-0.2) > 1e-9 {
		t.Errorf("share %+v", s)
	}
}

func TestClusterTable(t *testing.T) {
	rows := ClusterTable(ticketFixture(), "cluster")
	want := []struct {
		v    string
		attr int64
	}{{"ticket/mtime", 0}, {"ticket/mtime", 1000}, {"ticket/mtime-reopen", 1000}}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v", rows)
	}
	for i, w := range want {
		if rows[i].Verifier != w.v || rows[i].AttrTimeoutMs != w.attr {
			t.Errorf("row %d: %s %d, want %s %d", i, rows[i].Verifier, rows[i].AttrTimeoutMs, w.v, w.attr)
		}
	}
	if p := rows[1].DoubleRotationRate; p.K != 1 || p.N != 2 {
		t.Errorf("double rotation rate %+v", p)
	}
	// The window between touch and check: measured in row 0, absent (an
	// older file) in row 1, which must not read as 0 %.
	if r := rows[0]; r.RejectedBeforeCheckRatio != 0.75 || r.BeforeCheckAgeShare != 1 {
		t.Errorf("before the check: ratio %v, age share %v; want 0.75, 1", r.RejectedBeforeCheckRatio, r.BeforeCheckAgeShare)
	}
	if r := rows[1]; !math.IsNaN(r.RejectedBeforeCheckRatio) || !math.IsNaN(r.BeforeCheckAgeShare) {
		t.Errorf("unmeasured window reads %v / %v, want NaN", r.RejectedBeforeCheckRatio, r.BeforeCheckAgeShare)
	}
}

// TestTargetsSkipTickets: the token targets (crypt share, knee against the
// control) never judge ticket strategies, neither in marked target
// scenarios nor on the fallback to steady* scenarios of an older file.
func TestTargetsSkipTickets(t *testing.T) {
	t.Parallel()
	build := func(target bool) *results.File {
		f := &results.File{}
		for _, v := range []string{results.ControlVerifier, results.BaselineVerifier, "ttl", "ticket/uncached", "ticket/mtime"} {
			for round := 1; round <= 3; round++ {
				f.Runs = append(f.Runs,
					results.Run{Scenario: "steady-ticket", Verifier: v, Phase: results.PhaseConstant, Round: round, Target: target,
						OfferedRPS: 500, AchievedRPS: 500, SuccessRatio: 1, ExpectedRatio: 1, CPUSecondsPer1kReq: 0.2,
						CPUShare: results.CPUShare{Crypt: 0.5, Other: 0.5, Samples: 500}},
					results.Run{Scenario: "steady-ticket", Verifier: v, Phase: results.PhaseKnee, Round: round, Target: target, KneeRPS: 1000})
			}
		}
		return f
	}
	for _, tc := range []struct {
		name   string
		target bool
	}{{"marked target scenario", true}, {"fallback to steady*", false}} {
		t.Run(tc.name, func(t *testing.T) {
			s := Summarize(build(tc.target), Options{})
			if len(s.TargetScenarios) != 1 {
				t.Fatalf("target scenarios %v", s.TargetScenarios)
			}
			var token int
			for _, tg := range s.Targets {
				if IsTicket(tg.Verifier) {
					t.Errorf("token target %q applied to %s", tg.Name, tg.Verifier)
				} else {
					token++
				}
			}
			if token == 0 {
				t.Error("no targets for the token verifiers of the same scenario")
			}
		})
	}
}

// TestVerifierLessTickets orders ticket strategies as impl/ticket lists
// them, the group's baseline first.
func TestVerifierLessTickets(t *testing.T) {
	t.Parallel()
	var want []string
	for _, s := range ticket.Strategies() {
		want = append(want, results.TicketVerifier(s.Name))
	}
	got := slices.Clone(want)
	slices.Reverse(got)
	SortVerifiers(got)
	if !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}
