package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbench/authbench/internal/gate"
	"github.com/authbench/authbench/internal/results"
)

// fakeEnv is a gateEnv that builds and measures nothing: each round
// returns synthetic benchmark lines, slower by factor for the candidate.
type fakeEnv struct {
	resolveErr error
	buildErr   map[string]error // by side name
	factor     float64          // candidate / base
	rounds     map[string]int   // rounds run per side
	cleaned    bool
	lines      func(s side, round int) string
}

func (f *fakeEnv) env() gateEnv {
	f.rounds = map[string]int{}
	return gateEnv{
		resolve: func(_ context.Context, _, ref string) (string, error) {
			if f.resolveErr != nil {
				return "", f.resolveErr
			}
			return "0123456789abcdef0123456789abcdef01234567", nil
		},
		worktree: func(_ context.Context, _, _, dir string) (func() error, error) {
			return func() error { f.cleaned = true; return nil }, os.MkdirAll(dir, 0o755)
		},
		build: func(_ context.Context, src, out, name string) (side, error) {
			if err := f.buildErr[name]; err != nil {
				return side{}, err
			}
			return side{name: name, src: src}, nil
		},
		round: func(_ context.Context, s side, _ roundConfig, _ string) ([]byte, error) {
			f.rounds[s.name]++
			if f.lines != nil {
				return []byte(f.lines(s, f.rounds[s.name])), nil
			}
			v := 100.0 + float64(f.rounds[s.name]%5) // deterministic spread
			if s.name == "cand" {
				v *= f.factor
			}
			return []byte(fmt.Sprintf("BenchmarkVerify/ttl/hit-2 1000 %.2f ns/op\n", v)), nil
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

func exitOf(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 2
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
			var out, errb bytes.Buffer
			f := &fakeEnv{}
			err := gateMain(context.Background(), c.args, &out, &errb, f.env())
			if got := exitOf(err); got != c.code {
				t.Fatalf("exit %d, want %d (err %v)\n%s", got, c.code, err, out.String())
			}
			if !strings.Contains(out.String(), c.wantOut) {
				t.Errorf("output lacks %q:\n%s", c.wantOut, out.String())
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
		name     string
		env      fakeEnv
		args     []string
		code     int
		wantErr  string
		cleaned  bool
		minRound int
	}{
		{"no change passes", fakeEnv{factor: 1}, nil, 0, "", true, 12},
		{"regression fails", fakeEnv{factor: 1.5}, nil, 1, "regression", true, 12},
		{"unknown ref", fakeEnv{resolveErr: errors.New(`unknown ref "nope"`)}, nil, 2, "unknown ref", false, 0},
		{"base does not build", fakeEnv{buildErr: map[string]error{"base": errors.New("syntax error")}}, nil, 2, "does not build", true, 0},
		{"candidate does not build", fakeEnv{buildErr: map[string]error{"cand": errors.New("syntax error")}}, nil, 2, "working tree does not build", true, 0},
		{"too few rounds for the confidence", fakeEnv{factor: 1}, []string{"--rounds", "3"}, 2, "too few samples", true, 1},
		{"rounds that read nothing", fakeEnv{factor: 1, lines: func(side, int) string { return "PASS\n" }}, nil, 2, "no benchmark results", true, 1},
		{"sides share no benchmark", fakeEnv{factor: 1, lines: func(s side, _ int) string { return benchLines(s.name+"-2", 1, 2) }}, nil, 2, "no benchmark common", true, 12},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			f := c.env
			args := append([]string{"--base", "main", "--repo", repo, "--scenario", "probe.yaml"}, c.args...)
			err := gateMain(context.Background(), args, &out, &errb, f.env())
			if got := exitOf(err); got != c.code {
				t.Fatalf("exit %d, want %d (err %v)\n%s%s", got, c.code, err, out.String(), errb.String())
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Errorf("error %v, want it to mention %q", err, c.wantErr)
			}
			if f.cleaned != c.cleaned {
				t.Errorf("worktree cleaned %v, want %v", f.cleaned, c.cleaned)
			}
			if f.rounds["base"] != f.rounds["cand"] && c.code != 2 {
				t.Errorf("unbalanced rounds %v", f.rounds)
			}
			if f.rounds["base"] < c.minRound {
				t.Errorf("base ran %d rounds, want >= %d", f.rounds["base"], c.minRound)
			}
		})
	}
}

// TestInterleaveOrder checks that sides alternate and swap order each
// round, so that drift cannot favour one of them.
func TestInterleaveOrder(t *testing.T) {
	var order []string
	env := gateEnv{round: func(_ context.Context, s side, _ roundConfig, _ string) ([]byte, error) {
		order = append(order, s.name)
		return []byte(benchLines("X-2", 1)), nil
	}}
	_, err := interleave(context.Background(), []side{{name: "A"}, {name: "B"}}, 4, roundConfig{}, gate.Options{Alpha: 0.9}, env, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(order, ""), "ABBAABBA"; got != want {
		t.Errorf("order %s, want %s", got, want)
	}
}

func TestGateCalibrateFake(t *testing.T) {
	f := &fakeEnv{lines: func(s side, round int) string {
		v := 100.0 + float64(round%7)
		if strings.Contains(strings.Join(s.env, " "), slowdownEnv) {
			v *= 1.5
		}
		return benchLines("Verify/ttl/hit-2", v)
	}}
	var out, errb bytes.Buffer
	err := gateMain(context.Background(), []string{"--calibrate", "--trials", "2", "--rounds", "8", "--repo", t.TempDir(), "--scenario", ""}, &out, &errb, f.env())
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	for _, want := range []string{"A/A false-alarm rate (gate failed):             0/2", "every slowed metric flagged:     2/2", "noise CV", "recommended N"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if f.rounds["A"] != 16 || f.rounds["A2"] != 16 || f.rounds["Aslow"] != 16 {
		t.Errorf("rounds per arm %v, want 16 each", f.rounds)
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
			var out bytes.Buffer
			args := append([]string{"--results", mk(t, c.runs), "--repo", t.TempDir()}, c.extra...)
			err := gateMain(context.Background(), args, &out, &bytes.Buffer{}, (&fakeEnv{}).env())
			if got := exitOf(err); got != c.code {
				t.Fatalf("exit %d, want %d (err %v)\n%s", got, c.code, err, out.String())
			}
			if !strings.Contains(out.String(), c.wantOut) {
				t.Errorf("output lacks %q:\n%s", c.wantOut, out.String())
			}
		})
	}
	t.Run("missing results", func(t *testing.T) {
		err := gateMain(context.Background(), []string{"--results", t.TempDir()}, &bytes.Buffer{}, &bytes.Buffer{}, (&fakeEnv{}).env())
		if exitOf(err) != 2 {
			t.Errorf("exit %d, want 2 (%v)", exitOf(err), err)
		}
	})
}

// TestGitResolveUnknownRef uses a real temporary repository: an unknown
// ref must be an error that names it, never a comparison with something.
func TestGitResolveUnknownRef(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repo := t.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	writeFile(t, repo, "f", "x")
	git("add", "f")
	git("commit", "-q", "-m", "one")
	ctx := context.Background()
	if c, err := gitResolve(ctx, repo, "HEAD"); err != nil || len(c) != 40 {
		t.Fatalf("HEAD: %q, %v", c, err)
	}
	for _, ref := range []string{"no-such-branch", "origin/main", "--all"} {
		if _, err := gitResolve(ctx, repo, ref); err == nil || !strings.Contains(err.Error(), "unknown ref") {
			t.Errorf("%s: err %v, want unknown ref", ref, err)
		}
	}
	// Through the command: exit 2 with the ref named.
	var errb bytes.Buffer
	err := gateMain(ctx, []string{"--base", "no-such-branch", "--repo", repo}, &bytes.Buffer{}, &errb, realGateEnv())
	if exitOf(err) != 2 || !strings.Contains(err.Error(), "no-such-branch") {
		t.Errorf("exit %d, err %v", exitOf(err), err)
	}
	// The worktree helper checks out and removes cleanly.
	c, _ := gitResolve(ctx, repo, "HEAD")
	dir := filepath.Join(t.TempDir(), "wt")
	cleanup, err := gitWorktree(ctx, repo, c, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "f")); err != nil {
		t.Errorf("worktree lacks the file: %v", err)
	}
	if err := cleanup(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("worktree left behind: %v", err)
	}
}
