package gate

import (
	"bytes"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	gatefiles "github.com/authbench/authbench/gate"
	"github.com/authbench/authbench/internal/results"
)

func ms(v float64) *float64 { return &v }

// sampleResults holds one violation of each kind next to passing runs.
func sampleResults() *results.File {
	run := func(scen, ver string, rps, achieved, cpu, p50, crypt float64) results.Run {
		return results.Run{Scenario: scen, Verifier: ver, Phase: "constant", OfferedRPS: rps, AchievedRPS: achieved,
			CPUSecondsPer1kReq: cpu, Latency: results.Latency{P50: p50}, CPUShare: results.CPUShare{Crypt: crypt, Samples: 500}}
	}
	runs := []results.Run{
		run("steady/tokens=1", "uncached", 100, 100, 5.0, 3000, 0.9),
		run("steady/tokens=1", "uncached", 100, 100, 5.2, 3100, 0.92), // a repeat: medians are used
		run("steady/tokens=1", "generation", 100, 100, 0.05, 40, 0.01),
		run("steady/tokens=1", "mtime", 100, 100, 2.0, 1500, 0.6), // speedup 2.5, crypt share too high
		run("steady/tokens=1", "ttl", 100, 100, 0, 30, 0.01),      // no CPU figure: p50 ratio 102
		run("steady/tokens=1", "noauth", 100, 90, 0.02, 20, 0),    // short of its rate below the knee
		{Scenario: "steady/tokens=1", Verifier: "uncached", KneeRPS: 150, OfferedRPS: 150, AchievedRPS: 149},
		{Scenario: "steady/tokens=1", Verifier: "uncached", Phase: "knee-step", OfferedRPS: 200, AchievedRPS: 150}, // above the knee
		run("steady-yescrypt", "uncached", 100, 100, 0.1, 100, 0.2),                                                // crypt share too low
		run("steady-yescrypt", "generation", 100, 100, 0.01, 10, 0.02),
		run("invalid-flood", "uncached", 100, 100, 5, 3000, 0.9),   // cache gates do not cover floods
		run("invalid-flood", "generation", 100, 100, 4, 2500, 0.8), // of wrong secrets
		{Scenario: "steady/tokens=1", Verifier: "generation", Phase: "knee-step", OfferedRPS: 400, AchievedRPS: 300, Latency: results.Latency{P50: 2900}},
		{Scenario: "concurrency/c=1", Verifier: "uncached", Phase: "constant", Concurrency: 1, OfferedRPS: 800, AchievedRPS: 300}, // closed model
	}
	revs := []results.Revocation{
		{Scenario: "revoke", Verifier: "generation", Event: "delete", TimeToRejectMS: ms(1), BoundMS: ms(10), Converged: true, Pass: true},
		{Scenario: "revoke", Verifier: "mtime", Event: "rotate", TimeToRejectMS: ms(500), BoundMS: ms(100), Converged: true, Pass: false},
		{Scenario: "revoke", Verifier: "ttl", Event: "delete", AtMS: 50, BoundMS: ms(1000), Pass: true}, // never rejected
		// Rejected one probe interval after a zero bound: the runner's
		// verdict (pass) stands.
		{Scenario: "revoke", Verifier: "uncached", Event: "rotate", TimeToRejectMS: ms(20), BoundMS: ms(0), Converged: true, Pass: true},
	}
	return &results.File{SchemaVersion: results.SchemaVersion, Runs: runs, Revocations: revs}
}

func TestCheckSemantic(t *testing.T) {
	fs := CheckSemantic(sampleResults(), DefaultThresholds())
	tests := []struct {
		threshold string
		checked   []string // scenario/verifier pairs judged
		failed    []string
	}{
		{"cache-hit-speedup", []string{"steady/tokens=1/generation", "steady/tokens=1/mtime", "steady/tokens=1/ttl", "steady-yescrypt/generation"}, []string{"steady/tokens=1/mtime"}},
		{"cached-crypt-share", []string{"steady/tokens=1/generation", "steady/tokens=1/mtime", "steady/tokens=1/ttl", "steady-yescrypt/generation"}, []string{"steady/tokens=1/mtime"}},
		{"uncached-crypt-share", []string{"steady/tokens=1/uncached", "steady-yescrypt/uncached"}, []string{"steady-yescrypt/uncached"}},
		{"below-knee-throughput", []string{"steady/tokens=1/generation", "steady/tokens=1/mtime", "steady/tokens=1/noauth", "steady/tokens=1/ttl", "steady/tokens=1/uncached", "steady-yescrypt/generation", "steady-yescrypt/uncached", "invalid-flood/generation", "invalid-flood/uncached"}, []string{"steady/tokens=1/noauth"}},
		{"revocation-bounds", []string{"revoke/generation", "revoke/mtime", "revoke/ttl", "revoke/uncached"}, []string{"revoke/mtime", "revoke/ttl"}},
	}
	for _, tt := range tests {
		t.Run(tt.threshold, func(t *testing.T) {
			var checked, failed []string
			for _, f := range fs {
				if f.Threshold != tt.threshold {
					continue
				}
				pair := f.Scenario + "/" + f.Verifier
				checked = append(checked, pair)
				if f.Status == Fail {
					failed = append(failed, pair)
					if f.Message == "" || f.Where == "" {
						t.Errorf("%s: failing finding without message or where: %+v", pair, f)
					}
				}
			}
			sort.Strings(checked)
			sort.Strings(tt.checked)
			sort.Strings(tt.failed)
			if !reflect.DeepEqual(checked, tt.checked) || !reflect.DeepEqual(failed, tt.failed) {
				t.Errorf("checked %v failed %v, want %v and %v", checked, failed, tt.checked, tt.failed)
			}
		})
	}
	measured := map[string]float64{}
	for _, f := range fs {
		measured[f.Threshold+" "+f.Scenario+"/"+f.Verifier] = f.Measured
	}
	for k, want := range map[string]float64{
		"cache-hit-speedup steady/tokens=1/mtime":        5.1 / 2.0, // median of the uncached repeats
		"cache-hit-speedup steady/tokens=1/ttl":          3050.0 / 30,
		"below-knee-throughput steady/tokens=1/noauth":   0.9,
		"below-knee-throughput steady/tokens=1/uncached": 1, // knee-step and summary runs excluded
		"revocation-bounds revoke/ttl":                   1,
	} {
		if got := measured[k]; got < want-1e-9 || got > want+1e-9 {
			t.Errorf("%s measured %v, want %v", k, got, want)
		}
	}
	if !AnyFailed(fs) {
		t.Error("AnyFailed = false")
	}
	var buf bytes.Buffer
	if err := WriteFindings(&buf, fs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "FAIL revocation-bounds: a revoked") {
		t.Errorf("findings output lacks the message:\n%s", buf.String())
	}
}

func TestCheckSemanticNoData(t *testing.T) {
	fs := CheckSemantic(&results.File{}, DefaultThresholds())
	gated := 0
	for _, t := range DefaultThresholds().Thresholds {
		if t.ByGate() {
			gated++
		}
	}
	if len(fs) != gated || AnyFailed(fs) {
		t.Fatalf("empty results: %+v", fs)
	}
	for _, f := range fs {
		if f.Status != NoData {
			t.Errorf("%s: status %v, want no data", f.Threshold, f.Status)
		}
	}
}

func TestThresholdsFile(t *testing.T) {
	repo, err := os.ReadFile("../../gate/thresholds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(repo) != gatefiles.ThresholdsYAML() {
		t.Error("the embedded thresholds differ from gate/thresholds.yaml")
	}
	th, err := LoadThresholds("../../gate/thresholds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The gate keeps checking what it checked before the report shared
	// the file: five entries, the report-only ones skipped.
	var gated []string
	for _, e := range th.Thresholds {
		if e.ByGate() {
			gated = append(gated, e.Name)
		}
	}
	if want := []string{"cache-hit-speedup", "cached-crypt-share", "uncached-crypt-share", "below-knee-throughput", "revocation-bounds"}; !reflect.DeepEqual(gated, want) {
		t.Errorf("gate checks %v, want %v", gated, want)
	}
}

func TestParseThresholds(t *testing.T) {
	const ok = "version: 1\nthresholds:\n  - {name: a, metric: crypt_share_max, verifiers: [ttl], scenarios: [s], value: 0.1, message: m}\n"
	th, err := ParseThresholds([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if got := (check{Threshold: th.Thresholds[0]}); !reflect.DeepEqual(got.Verifiers, Selection{"ttl"}) || !got.applies("s", "ttl") || got.applies("s", "mtime") || got.applies("x", "ttl") {
		t.Errorf("selection: %+v", got)
	}
	tests := []struct{ name, yaml, msg string }{
		{"version", "version: 3\nthresholds: []\n", "version 3"},
		{"kind", "version: 2\nthresholds:\n  - {name: a, metric: crypt_share_max, checked_by: [gate], value: 1, message: m}\n", "missing kind"},
		{"kind value", "version: 2\nthresholds:\n  - {name: a, metric: crypt_share_max, kind: goal, checked_by: [gate], value: 1, message: m}\n", `unknown kind "goal"`},
		{"checked_by", "version: 2\nthresholds:\n  - {name: a, metric: crypt_share_max, kind: target, value: 1, message: m}\n", "missing checked_by"},
		{"resolution", "version: 2\nthresholds:\n  - {name: a, metric: crypt_share_max, kind: target, checked_by: [report], value: 1, message: m}\n", "missing resolution"},
		{"v1 kind", "version: 1\nthresholds:\n  - {name: a, metric: crypt_share_max, kind: target, value: 1, message: m}\n", "need version 2"},
		{"knee in gate", "version: 2\nthresholds:\n  - {name: a, metric: knee_ratio_min, kind: target, checked_by: [gate], value: 1, message: m}\n", "no check for knee_ratio_min"},
		{"metric", "version: 1\nthresholds:\n  - {name: a, metric: p99, value: 1, message: m}\n", `unknown metric "p99"`},
		{"field", "version: 1\nthresholds:\n  - {name: a, metric: crypt_share_max, valeu: 1, message: m}\n", "valeu"},
		{"verifiers", "version: 1\nthresholds:\n  - {name: a, metric: crypt_share_max, verifiers: some, value: 1, message: m}\n", `"some"`},
		{"share range", "version: 1\nthresholds:\n  - {name: a, metric: crypt_share_min, value: 2, message: m}\n", "outside [0, 1]"},
		{"duplicate", "version: 1\nthresholds:\n  - {name: a, metric: crypt_share_min, value: 0, message: m}\n  - {name: a, metric: crypt_share_min, value: 0, message: m}\n", "duplicate"},
		{"message", "version: 1\nthresholds:\n  - {name: a, metric: crypt_share_min, value: 0}\n", "missing message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseThresholds([]byte(tt.yaml)); err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %v, want error containing %q", err, tt.msg)
			}
		})
	}
	if _, err := LoadThresholds("does-not-exist.yaml"); err == nil {
		t.Error("missing file: want error")
	}
}

// TestTargetSelection checks `target: true`: with target flags in the
// results only target runs count; without any, the scenario list applies.
func TestTargetSelection(t *testing.T) {
	th, err := ParseThresholds([]byte("version: 1\nthresholds:\n  - {name: c, metric: crypt_share_max, target: true, scenarios: [steady], value: 0.25, message: m}\n"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(scen string, target bool) results.Run {
		return results.Run{Scenario: scen, Verifier: "ttl", Target: target, CPUShare: results.CPUShare{Crypt: 0.9, Samples: 10}}
	}
	cases := []struct {
		name string
		runs []results.Run
		want []string // failing scenarios
	}{
		{"flags select", []results.Run{run("steady", false), run("bulk", true)}, []string{"bulk"}},
		{"no flags: the list", []results.Run{run("steady", false), run("bulk", false)}, []string{"steady"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, f := range CheckSemantic(&results.File{Runs: c.runs}, th) {
				if f.Status == Fail {
					got = append(got, f.Scenario)
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("failing scenarios %v, want %v", got, c.want)
			}
		})
	}
}
