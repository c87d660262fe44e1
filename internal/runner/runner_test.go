package runner

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/scenarios"
)

// known are the verifier names the test scenarios are parsed against.
var known = []string{"uncached", "generation", "mtime", "ttl", "ttl-ctime"}

func parse(t *testing.T, name, src string) *scenarios.Scenario {
	t.Helper()
	return parseKnown(t, name, src, known)
}

func parseKnown(t *testing.T, name, src string, known []string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse(name, []byte(src), known)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

const runnerScenario = `# Question: does the runner measure load, profiles and revocations end to end?
description: three verifiers, an API revoke and a hand edit
tokens: 3
hash:
  scheme: sha256
  cost: 1000
load:
  rate: 40
  duration: 1500ms
  warmup: 200ms
  rounds: 1
server:
  ttl: 400ms
verifiers: [uncached, ttl, generation]
events:
  - at: 300ms
    kind: api-revoke
    token: 0
    from: self
  # Not at the same moment as the API write: a hand edit that races a
  # locked API write can be lost (the API rewrites what it read).
  - at: 700ms
    kind: manual-edit
    token: 1
`

func TestRunEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real load for a few seconds")
	}
	sc := parse(t, "runner.yaml", runnerScenario)
	out := t.TempDir()
	var secrets []string
	res, err := Run(context.Background(), []*scenarios.Scenario{sc}, Options{OutDir: out, OnSecret: func(s string) { secrets = append(secrets, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Interrupted {
		t.Fatal("not interrupted, but marked so")
	}
	if len(secrets) != 3 {
		t.Errorf("OnSecret saw %d secrets, want the 3 generated", len(secrets))
	}
	wantInfo := []results.ScenarioInfo{{Name: sc.Name, Question: "does the runner measure load, profiles and revocations end to end?",
		Description: "three verifiers, an API revoke and a hand edit"}}
	if !reflect.DeepEqual(res.ScenarioInfo, wantInfo) {
		t.Errorf("scenario info %+v, want %+v", res.ScenarioInfo, wantInfo)
	}
	byVerifier := map[string]int{}
	for _, r := range res.Runs {
		byVerifier[r.Verifier]++
		if r.Requests == 0 || r.ExpectedRatio < 0.9 {
			t.Errorf("%s: %d requests, expected ratio %.2f", r.Verifier, r.Requests, r.ExpectedRatio)
		}
		// Folded stacks and flame graphs are the profile stage's (see
		// internal/profiles and the e2e tests); the runner saves the raw
		// profile and the vegeta results.
		if r.Flamegraph != "" || r.Folded != "" {
			t.Errorf("%s: runner wrote post-processing paths %q %q", r.Verifier, r.Flamegraph, r.Folded)
		}
		if r.Round != 1 || r.Repeat != 1 {
			t.Errorf("%s: round %d repeat %d, want 1 1", r.Verifier, r.Round, r.Repeat)
		}
		for _, p := range []string{r.Profile, r.ResultsFile} {
			if p == "" {
				t.Errorf("%s: missing artefact path in %+v", r.Verifier, r)
				continue
			}
			if _, err := os.Stat(filepath.Join(out, p)); err != nil {
				t.Errorf("%s: %v", r.Verifier, err)
			}
		}
	}
	for _, v := range []string{"uncached", "ttl", "generation"} {
		if byVerifier[v] != 1 {
			t.Errorf("%s: %d runs, want 1", v, byVerifier[v])
		}
	}
	// The declared bounds decide the verdicts: API revokes are seen at
	// once by all; the manual delete is seen at once by uncached, within
	// the TTL by ttl, never by generation.
	type key struct{ verifier, kind string }
	got := map[key]bool{}
	for _, rv := range res.Revocations {
		kind := rv.Event[:len("api-revoke")]
		if rv.Event[:len("manual-edit")] == "manual-edit" {
			kind = "manual-edit"
		}
		got[key{rv.Verifier, kind}] = rv.TimeToRejectMS != nil
		if !rv.Pass {
			t.Errorf("%s %s failed its bound: %+v", rv.Verifier, rv.Event, rv)
		}
	}
	want := map[key]bool{
		{"uncached", "api-revoke"}: true, {"ttl", "api-revoke"}: true, {"generation", "api-revoke"}: true,
		{"uncached", "manual-edit"}: true, {"ttl", "manual-edit"}: true, {"generation", "manual-edit"}: false,
	}
	for k, rejected := range want {
		if got[k] != rejected {
			t.Errorf("%v: old secret rejected=%v, want %v", k, got[k], rejected)
		}
	}
}

func TestRunInterruptedKeepsFinishedRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real load")
	}
	sc := parse(t, "int.yaml", "# Question: interrupt\ntokens: 1\nhash: {cost: 1000}\nload: {rate: 20, duration: 1s, warmup: 100ms}\nverifiers: [ttl, uncached]\n")
	ctx, cancel := context.WithCancel(context.Background())
	// Cancel during the second job: the first must survive.
	go func() { time.Sleep(2200 * time.Millisecond); cancel() }()
	res, err := Run(ctx, []*scenarios.Scenario{sc}, Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted {
		t.Fatal("interrupted run not marked")
	}
	if len(res.Runs) != 1 || res.Runs[0].Verifier != "ttl" {
		t.Fatalf("runs after interrupt: %+v, want the finished ttl run only", res.Runs)
	}
}

func TestRunBadOutputDir(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), nil, Options{OutDir: filepath.Join(f, "sub")}); err == nil {
		t.Fatal("output below a regular file accepted")
	}
}

func TestRotate(t *testing.T) {
	cells := []string{"noauth", "noauth-aa", "uncached", "ttl"}
	for _, tc := range []struct {
		round int
		want  []string
	}{
		{1, []string{"noauth", "noauth-aa", "uncached", "ttl"}},
		{2, []string{"noauth-aa", "uncached", "ttl", "noauth"}},
		{4, []string{"ttl", "noauth", "noauth-aa", "uncached"}},
		{5, []string{"noauth", "noauth-aa", "uncached", "ttl"}},
	} {
		if got := rotate(cells, tc.round); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("round %d: %v, want %v", tc.round, got, tc.want)
		}
	}
	if rotate([]string(nil), 3) != nil {
		t.Error("rotate of nothing")
	}
}

// TestRunInterleavesRounds: every cell, the A/A control copy included, runs
// once per round, in rotated order, and every run carries its round and
// the scenario's target flag.
func TestRunInterleavesRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real load")
	}
	sc := parse(t, "rounds.yaml", `# Question: interleaving
control: true
target: true
tokens: 2
hash: {cost: 1000}
load: {rate: 20, cached_rate: 40, duration: 300ms, warmup: 100ms, rounds: 3}
verifiers: [uncached, ttl]
`)
	res, err := Run(context.Background(), []*scenarios.Scenario{sc}, Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range res.Runs {
		order = append(order, r.Verifier)
		if !r.Target {
			t.Errorf("%s round %d: target not recorded", r.Verifier, r.Round)
		}
		// In-process servers share this process's CPU time with the load
		// generator: no rusage-based cost, the profile stage falls back.
		if r.CPUSource != "" || r.ServerCPUSeconds != 0 {
			t.Errorf("%s: in-process run claims server CPU %v from %q", r.Verifier, r.ServerCPUSeconds, r.CPUSource)
		}
		wantRate := 40.0
		if r.Verifier == "uncached" {
			wantRate = 20
		}
		if r.OfferedRPS != wantRate {
			t.Errorf("%s: offered %v, want %v", r.Verifier, r.OfferedRPS, wantRate)
		}
	}
	c, aa, b := results.ControlVerifier, results.ControlCopyVerifier, results.BaselineVerifier
	want := []string{c, aa, b, "ttl", aa, b, "ttl", c, b, "ttl", c, aa}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("run order\n %v\nwant\n %v", order, want)
	}
	for i, r := range res.Runs {
		if wantRound := i/4 + 1; r.Round != wantRound || r.Repeat != wantRound {
			t.Errorf("run %d (%s): round %d repeat %d, want %d", i, r.Verifier, r.Round, r.Repeat, wantRound)
		}
	}
}

func TestBoundFor(t *testing.T) {
	b := impl.Bound{APISameProcess: impl.Staleness{}, APIOtherProcess: impl.Staleness{Max: time.Second},
		ManualEdit: impl.Staleness{Max: 2 * time.Second}, SameLenRestore: impl.Staleness{Unbounded: true}, UsesFileMetadata: true}
	for _, tc := range []struct {
		ev   scenarios.Event
		want impl.Staleness
	}{
		{scenarios.Event{Kind: scenarios.EventAPIRotate, From: scenarios.FromSelf}, impl.Staleness{}},
		{scenarios.Event{Kind: scenarios.EventAPIRevoke, From: scenarios.FromOther}, impl.Staleness{Max: time.Second}},
		{scenarios.Event{Kind: scenarios.EventManualEdit}, impl.Staleness{Max: 2 * time.Second}},
		{scenarios.Event{Kind: scenarios.EventManualRestore}, impl.Staleness{Unbounded: true}},
		{scenarios.Event{Kind: scenarios.EventCoarseMtime}, impl.Staleness{Unbounded: true}},
		{scenarios.Event{Kind: scenarios.EventStaleStat, TTL: time.Second}, impl.Staleness{Max: 3 * time.Second}},
	} {
		if got := boundFor(b, tc.ev); got != tc.want {
			t.Errorf("%s/%s: %v, want %v", tc.ev.Kind, tc.ev.From, got, tc.want)
		}
	}
}

// TestRunParallelTurns: a parallel event scenario runs every cell's turn
// at once; each keeps its own servers, probes and verdicts, and the
// in-process servers (one profiler per process) take no profile.
func TestRunParallelTurns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real load for a few seconds")
	}
	src := strings.Replace(runnerScenario, "  rounds: 1\n", "  rounds: 1\n  parallel: true\n", 1)
	sc := parse(t, "parallel.yaml", src)
	if !sc.Load.Parallel {
		t.Fatal("parallel not parsed")
	}
	res, err := Run(context.Background(), []*scenarios.Scenario{sc}, Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range res.Runs {
		seen[r.Verifier]++
		if r.Profile != "" || r.ClientCPUSecondsPer1kReq != 0 {
			t.Errorf("%s: parallel in-process run has profile %q, client CPU %v", r.Verifier, r.Profile, r.ClientCPUSecondsPer1kReq)
		}
		if r.Requests == 0 {
			t.Errorf("%s: no requests", r.Verifier)
		}
	}
	if len(seen) != 3 || seen["uncached"] != 1 || seen["ttl"] != 1 || seen["generation"] != 1 {
		t.Errorf("runs per verifier %v", seen)
	}
	if len(res.Revocations) != 6 {
		t.Errorf("%d revocations, want 3 verifiers × 2 events", len(res.Revocations))
	}
	for _, rv := range res.Revocations {
		if !rv.Pass {
			t.Errorf("%s %s failed its bound: %+v", rv.Verifier, rv.Event, rv)
		}
	}
}
