package cluster

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestTimeline(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int, code uint16) *vegeta.Result {
		return &vegeta.Result{Timestamp: t0.Add(time.Duration(ms) * time.Millisecond), Code: code}
	}
	rs := []*vegeta.Result{at(-300, 200), at(-1, 200), at(0, 401), at(249, 200), at(250, 0), at(700, 401)}
	codes := map[string]int{}
	got, rejected, total := timeline(rs, t0, 250, codes)
	want := []Point{{-500, 0, 1}, {-250, 0, 1}, {0, 1, 2}, {250, 1, 1}, {500, 1, 1}}
	if rejected != 3 || total != 4 || len(got) != len(want) { // totals count t >= 0 only
		t.Fatalf("got %+v rejected %d total %d", got, rejected, total)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("bucket %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if codes["401"] != 2 || codes["0"] != 1 || codes["200"] != 3 {
		t.Fatalf("codes %v", codes)
	}
}

func TestDisagree(t *testing.T) {
	ok := NodeState{Current: "a", Old: "b", Signing: "a"}
	tests := []struct {
		name   string
		states []NodeState
		want   bool
	}{
		{"agree", []NodeState{ok, ok, ok}, false},
		{"other current", []NodeState{ok, {Current: "c", Old: "b", Signing: "c"}}, true},
		{"other old", []NodeState{ok, {Current: "a", Old: "x", Signing: "a"}}, true},
		{"signs with another key", []NodeState{ok, {Current: "a", Old: "b", Signing: "c"}}, true},
		{"node error", []NodeState{ok, {Error: "stat: transport endpoint is not connected"}}, true},
		{"no key", []NodeState{{}, {}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := disagree(tc.states); got != tc.want {
				t.Fatalf("disagree = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	good.WorkDir = t.TempDir()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"one node", func(c *Config) { c.Nodes = 1 }},
		{"no trials", func(c *Config) { c.Trials = 0 }},
		{"unknown strategy", func(c *Config) { c.Strategies = []string{"nope"} }},
		{"negative attr", func(c *Config) { c.AttrTimeoutsMs = []int64{-1} }},
		{"zero rate", func(c *Config) { c.Rate = 0 }},
		{"no work dir", func(c *Config) { c.WorkDir = "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.mod(&c)
			if err := c.Validate(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestResultJSONGolden pins the JSON the lead maps into the report: the
// summary of synthetic trials (counts, not measurements).
func TestResultJSONGolden(t *testing.T) {
	trials := []Trial{
		{Event: EventTouch, Strategy: "mtime", AttrTimeoutMs: 1000, Trial: 0, Rotations: 2, Disagree: true, RejectedValid: 30, Total: 100,
			StatusCodes: map[string]int{"200": 70, "401": 30}, Timeline: []Point{{0, 10, 50}, {250, 20, 50}}},
		{Event: EventTouch, Strategy: "mtime", AttrTimeoutMs: 1000, Trial: 1, Rotations: 1, RejectedValid: 0, Total: 100,
			StatusCodes: map[string]int{"200": 100}, Timeline: []Point{{0, 0, 100}}},
		{Event: EventTouch, Strategy: "mtime-reopen", AttrTimeoutMs: 1000, Trial: 0, Rotations: 1, Total: 100, StatusCodes: map[string]int{"200": 100}},
		{Event: EventTouch, Strategy: "mtime-reopen", AttrTimeoutMs: 1000, Trial: 1, Skipped: "skipped: /dev/fuse not usable"},
	}
	res := Result{SchemaVersion: SchemaVersion, Config: Config{Nodes: 3, Events: []string{EventTouch}, Strategies: []string{"mtime", "mtime-reopen"},
		AttrTimeoutsMs: []int64{1000}, Trials: 2, KeyBits: 2048, Rate: 150, LeadMs: 500, ObserveMs: 6000, BucketMs: 250, TTLMs: 1000},
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Trials: trials, Summary: Summarize(trials)}
	got, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "result.golden.json")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != string(got)+"\n" {
		t.Fatalf("result JSON differs from %s (run with -update if intended):\n%s", path, got)
	}
}

// TestRunInterrupted: a cancelled run returns what finished (here nothing)
// marked interrupted, not an error.
func TestRunInterrupted(t *testing.T) {
	cfg := DefaultConfig()
	cfg.WorkDir, cfg.Binary = t.TempDir(), os.Args[0]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped == "" && (!res.Interrupted || len(res.Trials) != 0) {
		t.Fatalf("interrupted=%v trials=%d", res.Interrupted, len(res.Trials))
	}
}
