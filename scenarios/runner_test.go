package scenarios

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const runnerScenario = `# Question: does the runner measure load, profiles and revocations end to end?
tokens: 3
hash:
  scheme: sha256
  cost: 1000
load:
  rate: 40
  duration: 1500ms
  warmup: 200ms
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
	sc, err := Parse("runner.yaml", []byte(runnerScenario), []string{"uncached", "generation", "mtime", "ttl"})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var secrets []string
	res, err := Run(context.Background(), []*Scenario{sc}, RunOptions{OutDir: out, OnSecret: func(s string) { secrets = append(secrets, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Interrupted {
		t.Fatal("not interrupted, but marked so")
	}
	if len(secrets) != 3 {
		t.Errorf("OnSecret saw %d secrets, want the 3 generated", len(secrets))
	}
	byVerifier := map[string]int{}
	for _, r := range res.Runs {
		byVerifier[r.Verifier]++
		if r.Requests == 0 || r.ExpectedRatio < 0.9 {
			t.Errorf("%s: %d requests, expected ratio %.2f", r.Verifier, r.Requests, r.ExpectedRatio)
		}
		for _, p := range []string{r.Profile, r.Flamegraph, r.Folded, r.ResultsFile} {
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
	diff := filepath.Join(out, "flamegraphs", "runner", "diff-ttl-vs-uncached-grown.svg")
	if _, err := os.Stat(diff); err != nil {
		t.Errorf("differential flame graph: %v", err)
	}
}

func TestRunInterruptedKeepsFinishedRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real load")
	}
	sc, err := Parse("int.yaml", []byte("# Question: interrupt\ntokens: 1\nhash: {cost: 1000}\nload: {rate: 20, duration: 1s, warmup: 100ms}\nverifiers: [ttl, uncached]\n"), []string{"uncached", "ttl"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// Cancel during the second job: the first must survive.
	go func() { time.Sleep(2200 * time.Millisecond); cancel() }()
	res, err := Run(ctx, []*Scenario{sc}, RunOptions{OutDir: t.TempDir()})
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
	if _, err := Run(context.Background(), nil, RunOptions{OutDir: filepath.Join(f, "sub")}); err == nil {
		t.Fatal("output below a regular file accepted")
	}
}
