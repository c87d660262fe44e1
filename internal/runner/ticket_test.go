package runner

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/authbench/authbench/internal/cluster"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/scenarios"
)

var knownTickets = append(append([]string(nil), known...), "ticket/uncached", "ticket/mtime", "ticket/content-ttl")

func parseTickets(t *testing.T, name, src string) *scenarios.Scenario {
	t.Helper()
	return parseKnown(t, name, src, knownTickets)
}

// TestRunTickets measures ticket strategies in process: every request of
// the mix gets its expected status, the counters come from the ticket
// route, and the profile holds the strategy's samples.
func TestRunTickets(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real load")
	}
	sc := parseTickets(t, "tickets.yaml", `# Question: does the runner drive ticket load?
auth: ticket
strategies: [uncached, mtime]
tickets:
  key_bits: 1024
  mix: {valid: 6, old_key: 1, expired: 1, bad_signature: 1, garbage: 1}
load: {rate: 100, duration: 600ms, warmup: 100ms, rounds: 1}
`)
	out := t.TempDir()
	res, err := Run(context.Background(), []*scenarios.Scenario{sc}, Options{OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]results.Run{}
	for _, r := range res.Runs {
		got[r.Verifier] = r
	}
	for _, v := range []string{"ticket/uncached", "ticket/mtime"} {
		r, ok := got[v]
		if !ok {
			t.Fatalf("no run for %s in %+v", v, res.Runs)
		}
		if r.Requests == 0 || r.ExpectedRatio < 0.99 {
			t.Errorf("%s: %d requests, expected ratio %.3f (status %v)", v, r.Requests, r.ExpectedRatio, r.StatusCodes)
		}
		if r.VerifierStats.Fast == 0 || r.VerifierStats.Rejected == 0 {
			t.Errorf("%s: ticket counters %+v, want accepted and rejected", v, r.VerifierStats)
		}
		if r.Profile == "" || strings.Count(r.Profile, "/") != 1 {
			t.Errorf("%s: profile path %q", v, r.Profile)
		} else if _, err := os.Stat(filepath.Join(out, r.Profile)); err != nil {
			t.Error(err)
		}
	}
}

// TestClusterWithoutBinary: in process the experiment cannot mount, and
// says so per cell instead of pretending.
func TestClusterWithoutBinary(t *testing.T) {
	sc := parseTickets(t, "cluster.yaml", "# Question: c\nauth: ticket\nstrategies: [mtime]\ncluster:\n  trials: 1\n  attr_timeouts: [0s, 1s]\n")
	res, err := Run(context.Background(), []*scenarios.Scenario{sc}, Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Clusters) != 2 || len(res.Runs) != 0 {
		t.Fatalf("clusters %+v runs %d", res.Clusters, len(res.Runs))
	}
	for _, c := range res.Clusters {
		if c.Skipped == "" || c.Trials != 0 || c.Verifier != "ticket/mtime" || c.Event != scenarios.ClusterKeyTouchYesterday {
			t.Errorf("cell %+v", c)
		}
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "cluster skipped") {
		t.Errorf("notes %v", res.Notes)
	}
}

// TestClusterRuns aggregates trials per cell: rotations per trial,
// double rotations, disagreement, summed timeline and the peak bucket
// (lead-in buckets do not count for the peak).
func TestClusterRuns(t *testing.T) {
	sc := parseTickets(t, "c.yaml", "auth: ticket\nstrategies: [mtime, content-ttl]\ncluster: {trials: 3}\n")
	tr := func(strategy string, attr int64, n, rot int, dis bool, tl ...cluster.Point) cluster.Trial {
		tot, rej := 0, 0
		for _, p := range tl {
			if p.TMs >= 0 {
				tot, rej = tot+p.Total, rej+p.RejectedValid
			}
		}
		return cluster.Trial{Event: cluster.EventTouch, Strategy: strategy, AttrTimeoutMs: attr, Trial: n, Rotations: rot, Disagree: dis,
			RejectedValid: rej, Total: tot, Timeline: tl}
	}
	withCPU := func(tr cluster.Trial, cpu float64) cluster.Trial { tr.CPUPer1kReq = cpu; return tr }
	// withWindows adds the touch-to-check window, the touch's offset and
	// the after-check refusals by age.
	withWindows := func(tr cluster.Trial, before cluster.Window, eventMs int64, afterAge int) cluster.Trial {
		tr.BeforeCheck, tr.EventMs, tr.AfterCheck.RejectedAge = before, eventMs, afterAge
		return tr
	}
	trials := []cluster.Trial{
		withWindows(tr("mtime", 1000, 0, 2, true, cluster.Point{TMs: -250, RejectedValid: 9, RejectedAge: 9, Total: 10}, cluster.Point{TMs: 0, RejectedValid: 5, RejectedAge: 1, Total: 10}, cluster.Point{TMs: 250, RejectedValid: 2, Total: 10}),
			cluster.Window{RejectedValid: 9, RejectedAge: 9, Total: 10}, -400, 1),
		withWindows(tr("mtime", 1000, 1, 1, false, cluster.Point{TMs: 0, RejectedValid: 1, Total: 10}, cluster.Point{TMs: 250, RejectedValid: 0, Total: 10}),
			cluster.Window{RejectedValid: 3, RejectedAge: 2, Total: 8}, -350, 0),
		{Event: cluster.EventTouch, Strategy: "mtime", AttrTimeoutMs: 1000, Trial: 2, Error: "node 1: exited"},
		withCPU(tr("content-ttl", 1000, 0, 1, false, cluster.Point{TMs: 0, Total: 10}), 0.5),
	}
	got := clusterRuns(sc, trials)
	want := []results.ClusterRun{
		{Scenario: "c", Event: scenarios.ClusterKeyTouchYesterday, Verifier: "ticket/mtime", AttrTimeoutMs: 1000, Nodes: 3, Trials: 2,
			RotationsPerTrial: []int{2, 1}, DoubleRotationTrials: 1, DisagreeTrials: 1, RejectedValid: 8, Total: 40, RejectedValidRatio: 0.2,
			RejectedAge: 1, BeforeCheck: &results.ClusterWindow{RejectedValid: 12, RejectedAge: 11, Total: 18}, EventMsPerTrial: []int64{-400, -350},
			PeakRejectedValidRatio: 0.3,
			Timeline:               []results.ClusterPoint{{TMs: -250, RejectedValid: 9, RejectedAge: 9, Total: 10}, {TMs: 0, RejectedValid: 6, RejectedAge: 1, Total: 20}, {TMs: 250, RejectedValid: 2, Total: 20}},
			FailedTrials:           1, Errors: []string{"trial 2: node 1: exited"}},
		{Scenario: "c", Event: scenarios.ClusterKeyTouchYesterday, Verifier: "ticket/content-ttl", AttrTimeoutMs: 1000, Nodes: 3, Trials: 1,
			RotationsPerTrial: []int{1}, Total: 10, Timeline: []results.ClusterPoint{{TMs: 0, Total: 10}}, CPUSecondsPer1kReq: 0.5},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("clusterRuns\n got %+v\nwant %+v", got, want)
	}
}

// TestClusterConfig maps the scenario onto the experiment's config.
func TestClusterConfig(t *testing.T) {
	sc := parseTickets(t, "c.yaml", "auth: ticket\nstrategies: [mtime]\ncluster: {trials: 4, attr_timeouts: [0s, 1s], events: [key-touch-yesterday, same-second-rotation], lead: 100ms}\n")
	cfg := clusterConfig(sc, "/bin/bench", "/work")
	if cfg.Trials != 4 || !reflect.DeepEqual(cfg.AttrTimeoutsMs, []int64{0, 1000}) || !reflect.DeepEqual(cfg.Events, []string{cluster.EventTouch, cluster.EventSameSecond}) ||
		cfg.LeadMs != 100 || !reflect.DeepEqual(cfg.Strategies, []string{"mtime"}) || cfg.Binary != "/bin/bench" || cfg.WorkDir != "/work" {
		t.Errorf("config %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("the experiment rejects the mapped config: %v", err)
	}
	for _, e := range scenarios.ClusterEventKinds() {
		if scenarioEvent(clusterEvent(e)) != e {
			t.Errorf("event %s does not round-trip", e)
		}
	}
}
