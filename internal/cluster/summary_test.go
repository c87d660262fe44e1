package cluster

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/authbench/authbench/impl/ticket"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestTimeline: buckets are floored around t0, the lead-in before the
// event counts in no window, [event, t0) is BeforeCheck and t0 on
// AfterCheck, and a rejection the node marks as the age range's is
// counted as such.
func TestTimeline(t *testing.T) {
	t0 := time.Unix(1000, 0)
	m := marks{event: t0.Add(-200 * time.Millisecond), t0: t0}
	at := func(ms int, code uint16, reason string) *vegeta.Result {
		r := &vegeta.Result{Timestamp: t0.Add(time.Duration(ms) * time.Millisecond), Code: code}
		if reason != "" {
			r.Headers = http.Header{HeaderReject: {reason}}
		}
		return r
	}
	rs := []*vegeta.Result{at(-300, 200, ""), at(-150, 401, RejectAge), at(-1, 200, ""), at(0, 401, "signature"),
		at(249, 200, ""), at(250, 0, ""), at(700, 401, RejectAge)}
	codes := map[string]int{}
	got, before, after := timeline(rs, m, 250, codes)
	want := []Point{{-500, 0, 1, 0}, {-250, 1, 2, 1}, {0, 1, 2, 0}, {250, 1, 1, 0}, {500, 1, 1, 1}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("bucket %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if want := (Window{RejectedValid: 1, RejectedAge: 1, Total: 2}); before != want {
		t.Errorf("before the check %+v, want %+v", before, want)
	}
	if want := (Window{RejectedValid: 3, RejectedAge: 1, Total: 4}); after != want {
		t.Errorf("after the check %+v, want %+v", after, want)
	}
	if codes["401"] != 3 || codes["0"] != 1 || codes["200"] != 3 {
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
			EventMs: -1400, BeforeCheck: Window{RejectedValid: 20, RejectedAge: 20, Total: 40}, AfterCheck: Window{RejectedValid: 30, Total: 100},
			StatusCodes: map[string]int{"200": 90, "401": 50}, Timeline: []Point{{-250, 20, 40, 20}, {0, 10, 50, 0}, {250, 20, 50, 0}}},
		{Event: EventTouch, Strategy: "mtime", AttrTimeoutMs: 1000, Trial: 1, Rotations: 1, RejectedValid: 0, Total: 100,
			StatusCodes: map[string]int{"200": 100}, Timeline: []Point{{0, 0, 100, 0}}},
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

// TestInitialKeysAged pins the cause of mtime's lone disagreement at
// attr_timeout 0 after one rotation, deterministically over a plain
// directory: a node with the mtime cache has loaded the private key (its
// first login), then a rotation rewrites the key set within the second
// the first set was written (at attr_timeout 0 a trial's rotation check
// came well under a second after its keys were made). The node keeps
// signing with the rotated-away key, which disagree reports. Keys dated
// InitialKeyAge back, as setupTrial writes them, cannot share a second
// with a rotation, and the node follows it.
func TestInitialKeysAged(t *testing.T) {
	for _, tc := range []struct {
		name         string
		aged         bool
		wantDisagree bool
	}{{"fresh keys, rotation in their second", false, true}, {"keys dated InitialKeyAge back", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files := ticket.Files{Dir: filepath.Join(dir, "pve")}
			lock := filepath.Join(dir, "lock")
			gen, err := ticket.NewAuthority(files, lock, "uncached", ticket.Options{})
			if err != nil {
				t.Fatal(err)
			}
			gen.KeyBits = 1024
			if tc.aged {
				err = initialKeys(gen, files, time.Now())
			} else {
				_, err = gen.MaybeRotate()
			}
			if err != nil {
				t.Fatal(err)
			}
			first, err := os.Stat(files.Path(ticket.Private))
			if err != nil {
				t.Fatal(err)
			}
			if age := time.Since(first.ModTime()); tc.aged && age < InitialKeyAge {
				t.Fatalf("initial private key is %v old, want >= %v", age, InitialKeyAge)
			}
			auth, err := ticket.NewAuthority(files, lock, "mtime", ticket.Options{})
			if err != nil {
				t.Fatal(err)
			}
			n := &Node{auth: auth}
			if _, err := auth.Assemble("root@pam"); err != nil { // caches the private key
				t.Fatal(err)
			}
			y := time.Now().Add(-ticket.KeyLifetime)
			if err := os.Chtimes(files.Path(ticket.Current), y, y); err != nil {
				t.Fatal(err)
			}
			if _, err := auth.Cache.Get(ticket.Current); err != nil { // the load sees the touch
				t.Fatal(err)
			}
			if ok, err := gen.MaybeRotate(); err != nil || !ok {
				t.Fatalf("rotation: %v %v", ok, err)
			}
			if !tc.aged { // the rotation landed in the first set's second
				for _, k := range []ticket.KeyKind{ticket.Current, ticket.Old, ticket.Private} {
					if err := os.Chtimes(files.Path(k), first.ModTime(), first.ModTime()); err != nil {
						t.Fatal(err)
					}
				}
			}
			st := n.State()
			if got := disagree([]NodeState{st}); got != tc.wantDisagree {
				t.Fatalf("disagree = %v, want %v (state %+v)", got, tc.wantDisagree, st)
			}
			if tc.wantDisagree && st.Signing != st.Old {
				t.Errorf("node signs with %s, want the rotated-away key %s", st.Signing, st.Old)
			}
		})
	}
}
