package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbench/authbench/internal/gaterates"
	"github.com/authbench/authbench/internal/gaterun"
	"github.com/authbench/authbench/internal/results"
)

// fakeEnv builds and measures nothing: each round returns synthetic
// benchmark lines, slower by factor for the candidate. The orchestration
// itself is tested in gaterun; these tests cover flags and exit codes.
func fakeEnv(factor float64, noValgrind bool) gaterun.Env {
	rounds := map[string]int{}
	return gaterun.Env{
		Resolve: func(_ context.Context, _, ref string) (string, error) {
			if ref == "nope" {
				return "", fmt.Errorf("unknown ref %q", ref)
			}
			return "0123456789abcdef0123456789abcdef01234567", nil
		},
		Worktree: func(_ context.Context, _, _, dir string) (func() error, error) {
			return func() error { return nil }, os.MkdirAll(dir, 0o755)
		},
		Build: func(_ context.Context, src, _, name string) (gaterun.Side, error) {
			return gaterun.Side{Name: name, Src: src}, nil
		},
		Round: func(_ context.Context, s gaterun.Side, kind gaterun.Kind, p gaterun.Protocol, _ string) ([]byte, error) {
			rounds[s.Name]++
			f := 1.0
			if s.Name == "cand" || strings.Contains(strings.Join(s.Env, " "), gaterun.SlowdownEnv) {
				f = factor
			}
			if kind == gaterun.InstructionRound {
				return []byte(strings.Repeat(fmt.Sprintf("BenchmarkVerify/ttl/hit 1 %g instructions/op\n", 600*f), p.InstrCount)), nil
			}
			v := (100.0 + float64(rounds[s.Name]%5)) * f // deterministic spread
			return []byte(fmt.Sprintf("BenchmarkVerify/ttl/hit-2 1000 %.2f ns/op %.2f cpu-ns/op\n", v, v)), nil
		},
		BuildAB: func(_ context.Context, _, _, out string) (string, error) { return out + "/abdriver", nil },
		RunAB: func(_ context.Context, _ string, p gaterun.ABProtocol) ([]byte, error) {
			rounds["ab"]++
			a := 100.0 + float64(rounds["ab"]%5)
			var b strings.Builder
			fmt.Fprintf(&b, "BenchmarkAB/ttl/hit/arm=A 1000 %g ns/op\nBenchmarkAB/ttl/hit/arm=B 1000 %g ns/op\n", a, a*factor*(1+0.001*float64(rounds["ab"]%3)))
			for _, f := range p.Planted {
				fmt.Fprintf(&b, "BenchmarkAB/ttl/hit/arm=B+%g 1000 %g ns/op\n", f, a*(1+f))
			}
			return []byte(b.String()), nil
		},
		Neighbour: func(context.Context) (func() error, error) { return func() error { return nil }, nil },
		LookPath: func(file string) (string, error) {
			if noValgrind {
				return "", errors.New("not found")
			}
			return "/usr/bin/" + file, nil
		},
	}
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func benchLines(name string, vals ...float64) string {
	var b strings.Builder
	for _, v := range vals {
		fmt.Fprintf(&b, "Benchmark%s 1000 %g ns/op\n", name, v)
	}
	return b.String()
}

func exitOfErr(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 2
}

func runGateTest(t *testing.T, args []string, env gaterun.Env) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := gateMain(context.Background(), args, strings.NewReader(""), &out, &errb, env)
	return out.String(), err
}

func TestGateFiles(t *testing.T) {
	dir := t.TempDir()
	ten := []float64{100, 101, 99, 102, 98, 100, 101, 99, 100, 102}
	slow := make([]float64, len(ten))
	for i, v := range ten {
		slow[i] = v * 1.3
	}
	old := writeFile(t, dir, "old.txt", benchLines("X-2", ten...))
	same := writeFile(t, dir, "same.txt", benchLines("X-2", ten...))
	worse := writeFile(t, dir, "worse.txt", benchLines("X-2", slow...))
	other := writeFile(t, dir, "other.txt", benchLines("Y-2", ten...))
	both := writeFile(t, dir, "both.txt", benchLines("X-2", ten...)+benchLines("Y-2", ten...))
	few := writeFile(t, dir, "few.txt", benchLines("X-2", 100, 101))
	empty := writeFile(t, dir, "empty.txt", "goos: linux\nPASS\n")
	cases := []struct {
		name    string
		args    []string
		code    int
		wantOut string
		wantErr string
	}{
		{"same passes", []string{"--baseline", old, "--candidate", same}, 0, "gate: pass", ""},
		{"30% slower fails", []string{"--baseline", old, "--candidate", worse}, 1, "WORSE", "regression"},
		{"min effect above the slowdown passes", []string{"--baseline", old, "--candidate", worse, "--min-effect", "0.5"}, 0, "gate: pass", ""},
		{"no common benchmarks", []string{"--baseline", old, "--candidate", other}, 2, "", "no benchmark common"},
		{"benchmark gone from the candidate", []string{"--baseline", both, "--candidate", old}, 2, "only in base: Y-2", "missing from the candidate"},
		{"benchmark new in the candidate", []string{"--baseline", old, "--candidate", both}, 0, "only in candidate: Y-2", ""},
		{"too few samples", []string{"--baseline", few, "--candidate", few}, 2, "", "too few samples"},
		{"no benchmark lines", []string{"--baseline", empty, "--candidate", old}, 2, "", "no benchmark results"},
		{"missing file", []string{"--baseline", filepath.Join(dir, "nope.txt"), "--candidate", old}, 2, "", "no such file"},
		{"baseline alone", []string{"--baseline", old}, 2, "", "go together"},
		{"no mode", nil, 2, "", "usage"},
		{"two modes", []string{"--baseline", old, "--candidate", old, "--calibrate"}, 2, "", "usage"},
		{"bad min effect", []string{"--baseline", old, "--candidate", old, "--min-effect", "5"}, 2, "", "min-effect"},
		{"stray argument", []string{"--baseline", old, "--candidate", old, "extra"}, 2, "", "unexpected arguments"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := runGateTest(t, c.args, fakeEnv(1, false))
			if got := exitOfErr(err); got != c.code {
				t.Fatalf("exit %d, want %d (err %v)\n%s", got, c.code, err, out)
			}
			if !strings.Contains(out, c.wantOut) {
				t.Errorf("output lacks %q:\n%s", c.wantOut, out)
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Errorf("error %v, want it to mention %q", err, c.wantErr)
			}
		})
	}
}

func TestGateBase(t *testing.T) {
	repo := t.TempDir()
	writeFile(t, repo, "probe.yaml", "load: {rate: 1}\n")
	cases := []struct {
		name       string
		factor     float64
		noValgrind bool
		args       []string
		code       int
		wantErr    string
	}{
		{"no change passes", 1, false, nil, 0, ""},
		{"regression fails", 1.5, false, nil, 1, "regression"},
		{"instructions regression fails", 1.02, false, []string{"--measure", "instructions"}, 1, "instructions/op"},
		{"instructions without valgrind", 1, true, []string{"--measure", "instructions"}, 2, "scripts/tools.sh valgrind (Debian package valgrind)"},
		{"unknown method", 1, false, []string{"--measure", "cycles"}, 2, "unknown method"},
		{"unknown ref", 1, false, []string{"--base", "nope"}, 2, "unknown ref"},
		{"too few rounds", 1, false, []string{"--rounds", "3", "--measure", "wall"}, 2, "too few samples"},
		{"too few ab processes", 1, false, []string{"--ab-procs", "3", "--measure", "ab"}, 2, "too few samples"},
		{"missing scenario", 1, false, []string{"--scenario", "nope.yaml"}, 2, "gate scenario"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"--base", "main", "--repo", repo, "--scenario", "probe.yaml"}, c.args...)
			out, err := runGateTest(t, args, fakeEnv(c.factor, c.noValgrind))
			if got := exitOfErr(err); got != c.code {
				t.Fatalf("exit %d, want %d (err %v)\n%s", got, c.code, err, out)
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Errorf("error %v, want it to mention %q", err, c.wantErr)
			}
		})
	}
}

func TestGateCalibrate(t *testing.T) {
	out := t.TempDir()
	stdout, err := runGateTest(t, []string{"--calibrate", "--neighbour", "--measure", "wall,cpu", "--trials", "2", "--rounds", "6", "--repo", t.TempDir(), "--out", out}, fakeEnv(1.5, false))
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	for _, w := range []string{"noisy neighbour running", "| wall |", "| cpu |", "2/2 = 100 %"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}
	for _, f := range []string{"calibration.json", "calibration.md"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := runGateTest(t, []string{"--calibrate", "--repo", t.TempDir()}, fakeEnv(1, true)); exitOfErr(err) != 2 || !strings.Contains(err.Error(), "valgrind") {
		t.Errorf("calibrate without valgrind: %v", err)
	}
}

func TestGateSemantic(t *testing.T) {
	mk := func(t *testing.T, runs []results.Run) string {
		dir := t.TempDir()
		f := &results.File{SchemaVersion: results.SchemaVersion, Runs: runs}
		if err := results.Write(dir, f); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	run := func(v string, cpu float64) results.Run {
		return results.Run{Scenario: "steady", Verifier: v, OfferedRPS: 100, AchievedRPS: 100, CPUSecondsPer1kReq: cpu}
	}
	good := []results.Run{run("uncached", 2), run("ttl", 0.1)}
	bad := []results.Run{run("uncached", 2), run("ttl", 1)}
	cases := []struct {
		name    string
		runs    []results.Run
		extra   []string
		code    int
		wantOut string
	}{
		{"invariants hold", good, nil, 0, "gate: pass"},
		{"cache not hitting", bad, nil, 1, "FAIL cache-hit-speedup"},
		{"nothing applies", []results.Run{}, nil, 2, ""},
		{"bad thresholds file", good, []string{"--thresholds", "/nonexistent/thresholds.yaml"}, 2, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"--results", mk(t, c.runs), "--repo", t.TempDir()}, c.extra...)
			out, err := runGateTest(t, args, fakeEnv(1, false))
			if got := exitOfErr(err); got != c.code {
				t.Fatalf("exit %d, want %d (err %v)\n%s", got, c.code, err, out)
			}
			if !strings.Contains(out, c.wantOut) {
				t.Errorf("output lacks %q:\n%s", c.wantOut, out)
			}
		})
	}
	bad2 := []struct{ name, body, want string }{
		{"missing results", "", "read results"},
		{"older schema", `{"schema_version": 0, "runs": []}`, "results schema 0, this build reads schema 1"},
		{"no schema", `{"runs": []}`, "no schema_version"},
		{"not json", `{`, "parse"},
	}
	for _, c := range bad2 {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.body != "" {
				writeFile(t, dir, results.FileName, c.body)
			}
			_, err := runGateTest(t, []string{"--results", dir}, fakeEnv(1, false))
			if exitOfErr(err) != 2 || !strings.Contains(err.Error(), c.want) {
				t.Errorf("exit %d, err %v; want 2 mentioning %q", exitOfErr(err), err, c.want)
			}
		})
	}
}

// TestGateSummary: the verdict block goes to --summary (appended, as
// $GITHUB_STEP_SUMMARY wants), with the repo's calibrated rates, their
// intervals and the smallest detectable change; without a rates file it
// says the gate is not calibrated.
func TestGateSummary(t *testing.T) {
	repo := t.TempDir()
	rates := &gaterates.File{Date: "2026-12-03T10:00:00Z", Machine: "linux/amd64, 2 CPUs", Alpha: 0.05, Correction: "benjamini-hochberg",
		Methods: []gaterates.Method{{Method: "instructions", MinEffect: 0.01, FalseAlarm: gaterates.Rate{K: 0, N: 200, Lo: 0, Hi: 0.018},
			Detection: []gaterates.Planted{{Slowdown: 0.01, Detected: gaterates.Rate{K: 190, N: 200, Lo: 0.91, Hi: 0.975}}}, MDE80: 0.01, MDE80Resolved: true}}}
	if err := gaterates.Write(filepath.Join(repo, gaterates.Path), rates); err != nil {
		t.Fatal(err)
	}
	sum := filepath.Join(t.TempDir(), "summary.md")
	writeFile(t, filepath.Dir(sum), "summary.md", "earlier step\n")
	args := []string{"--base", "main", "--repo", repo, "--scenario", "", "--summary", sum}
	if _, err := runGateTest(t, args, fakeEnv(1.5, false)); exitOfErr(err) != 1 {
		t.Fatalf("err %v, want a regression", err)
	}
	b, err := os.ReadFile(sum)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"earlier step\n", "## bench gate: REGRESSION", "AB/ttl/hit", "0/200 = 0.0 % [0.0, 1.8] %", "+1 %: 190/200", "| +1 % |"} {
		if !strings.Contains(string(b), w) {
			t.Errorf("summary lacks %q:\n%s", w, b)
		}
	}
	bare := t.TempDir()
	if _, err := runGateTest(t, []string{"--base", "main", "--repo", bare, "--scenario", "", "--summary", sum}, fakeEnv(1, false)); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(sum); !strings.Contains(string(b), "## bench gate: PASS") || !strings.Contains(string(b), "not calibrated") {
		t.Errorf("pass without rates:\n%s", b)
	}
}
