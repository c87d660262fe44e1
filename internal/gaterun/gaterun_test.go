package gaterun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbench/authbench/internal/gate"
	"github.com/authbench/authbench/internal/gaterates"
)

var update = flag.Bool("update", false, "rewrite golden files")

func protocol() Protocol {
	return Protocol{BenchRE: "x", Samples: 3, SampleTime: "1ms", InstrTime: "1ms"}
}

// TestInterleaveOrder checks that sides alternate and swap order each
// round, so that drift cannot favour one of them.
func TestInterleaveOrder(t *testing.T) {
	f := &fake{}
	_, err := Interleave(context.Background(), []Side{{Name: "A"}, {Name: "B"}}, 4, TimeRound, protocol(), gate.Options{Alpha: 0.9}, f.env(), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(f.order, ""), "ABBAABBA"; got != want {
		t.Errorf("order %s, want %s", got, want)
	}
}

func TestInterleaveKeepsBestOfK(t *testing.T) {
	f := &fake{}
	got, err := Interleave(context.Background(), []Side{{Name: "A"}}, 3, TimeRound, protocol(), gate.Options{Alpha: 0.9}, f.env(), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	vs := got[0].Samples[gate.Key{Name: "Verify/ttl/hit-2", Unit: "sec/op"}]
	want := []float64{101e-9, 102e-9, 103e-9}
	for i := range want {
		if len(vs) != len(want) || math.Abs(vs[i]-want[i]) > 1e-15 {
			t.Fatalf("per-round values %v, want the minimum of each round %v", vs, want)
		}
	}
}

func TestInterleaveBadRounds(t *testing.T) {
	cases := []struct {
		name  string
		lines func(Side, Kind, int) string
		want  string
		is    error
	}{
		{"all samples failed", func(Side, Kind, int) string { return "--- FAIL: BenchmarkVerify/ttl/hit\nFAIL\n" }, "every sample failed", gate.ErrNoBenchmarks},
		{"benchmark vanishes in round 2", func(_ Side, _ Kind, r int) string {
			if r == 2 {
				return "BenchmarkVerify/ttl/hit-2 10 5 ns/op\n"
			}
			return "BenchmarkVerify/ttl/hit-2 10 5 ns/op\nBenchmarkVerify/mtime/hit-2 10 5 ns/op\n"
		}, "no sample of Verify/mtime/hit-2 sec/op", ErrRoundIncomplete},
		{"benchmark appears in round 2", func(_ Side, _ Kind, r int) string {
			if r == 2 {
				return "BenchmarkVerify/ttl/hit-2 10 5 ns/op\nBenchmarkVerify/mtime/hit-2 10 5 ns/op\n"
			}
			return "BenchmarkVerify/ttl/hit-2 10 5 ns/op\n"
		}, "appeared after round 1", ErrRoundIncomplete},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fake{lines: c.lines}
			_, err := Interleave(context.Background(), []Side{{Name: "A"}}, 3, TimeRound, protocol(), gate.Options{Alpha: 0.9}, f.env(), &bytes.Buffer{})
			if err == nil || !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %v mentioning %q", err, c.is, c.want)
			}
		})
	}
}

func TestCountAllIncomplete(t *testing.T) {
	f := &fake{lines: func(Side, Kind, int) string {
		return "BenchmarkVerify/ttl/hit 1 600 instructions/op\nBenchmarkVerify/ttl/hit 1 600 instructions/op\n"
	}}
	_, err := Interleave(context.Background(), []Side{{Name: "A"}}, 6, InstructionRound, protocol(), gate.Options{}, f.env(), &bytes.Buffer{})
	if !errors.Is(err, ErrRoundIncomplete) || !strings.Contains(err.Error(), "2 of 6 rounds") {
		t.Errorf("err %v, want a round count mismatch", err)
	}
}

func TestJudge(t *testing.T) {
	mk := func(names ...string) gate.Samples {
		s := gate.Samples{}
		for _, n := range names {
			s.Add(n, "sec/op", 1, 1.01, 0.99, 1, 1.02, 0.98, 1, 1)
		}
		return s
	}
	if _, err := Judge(mk("A", "B"), mk("A"), gate.Options{}); !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "B sec/op") {
		t.Errorf("benchmark gone from the candidate: err %v, want ErrMissing naming it", err)
	}
	rep, err := Judge(mk("A"), mk("A", "New"), gate.Options{})
	if err != nil || len(rep.OnlyCand) != 1 {
		t.Errorf("new benchmark in the candidate: %v, %+v; want it listed, not an error", err, rep)
	}
}

func baseConfig(repo string, ms ...Method) Config {
	if len(ms) == 0 {
		ms = []Method{Wall, CPU}
	}
	return Config{Repo: repo, Base: "main", Methods: ms, Rounds: 12, InstrRounds: 6, Protocol: protocol(),
		Alpha: 0.05, MinEffect: 0.05, InstrEffect: 0.01}
}

func TestBase(t *testing.T) {
	cases := []struct {
		name    string
		f       *fake
		cfg     func(Config) Config
		is      error
		wantErr string
		wantOut []string
		cleaned bool
	}{
		{"no change passes", &fake{factor: 1}, nil, nil, "", []string{"gate: pass", "cpu-sec/op", " sec/op", "6 metrics"}, true},
		{"regression fails", &fake{factor: 1.5}, nil, ErrRegression, "regression", []string{"WORSE"}, true},
		{"cpu only compares cpu", &fake{factor: 1}, func(c Config) Config { c.Methods = []Method{CPU}; return c }, nil, "", []string{"cpu-sec/op", "4 metrics"}, true},
		{"instructions regression", &fake{factor: 1.02}, func(c Config) Config { c.Methods = []Method{Instructions}; return c }, ErrRegression, "instructions/op", []string{"instructions rounds: 6 per side", "WORSE"}, true},
		{"instructions without valgrind", &fake{factor: 1, noValgrind: true}, func(c Config) Config { c.Methods = []Method{Instructions}; return c }, ErrNoValgrind, "scripts/tools.sh valgrind", nil, false},
		{"unknown ref", &fake{resolveErr: errors.New(`unknown ref "nope"`)}, nil, nil, "unknown ref", nil, false},
		{"base does not build", &fake{buildErr: map[string]error{"base": errors.New("syntax error")}}, nil, nil, "does not build", nil, true},
		{"candidate does not build", &fake{buildErr: map[string]error{"cand": errors.New("syntax error")}}, nil, nil, "working tree does not build", nil, true},
		{"too few rounds for the confidence", &fake{factor: 1}, func(c Config) Config { c.Rounds = 3; return c }, gate.ErrTooFewSamples, "too few samples", nil, true},
		{"rounds that read nothing", &fake{lines: func(Side, Kind, int) string { return "PASS\n" }}, nil, gate.ErrNoBenchmarks, "no benchmark results", nil, true},
		{"a benchmark gone from the candidate", &fake{lines: func(s Side, _ Kind, r int) string {
			out := "BenchmarkVerify/ttl/hit-2 10 5 ns/op\n"
			if s.Name == "base" {
				out += "BenchmarkVerify/mtime/hit-2 10 5 ns/op\n"
			}
			return out
		}}, nil, ErrMissing, "Verify/mtime/hit-2", nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			f := c.f
			cfg := baseConfig(t.TempDir())
			if c.cfg != nil {
				cfg = c.cfg(cfg)
			}
			err := Base(context.Background(), cfg, f.env(), &out, &errb)
			if c.wantErr == "" && err != nil {
				t.Fatalf("err %v\n%s%s", err, out.String(), errb.String())
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("err %v, want it to mention %q\n%s", err, c.wantErr, out.String())
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("err %v, want %v", err, c.is)
			}
			if c.is != ErrRegression && errors.Is(err, ErrRegression) {
				t.Errorf("err %v must not read as a regression", err)
			}
			for _, w := range c.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if f.cleaned != c.cleaned {
				t.Errorf("worktree cleaned %v, want %v", f.cleaned, c.cleaned)
			}
			if f.rounds["base/time"] != f.rounds["cand/time"] && err == nil {
				t.Errorf("unbalanced rounds %v", f.rounds)
			}
		})
	}
}

func calConfig(out string) CalConfig {
	return CalConfig{Repo: "/src", Methods: AllMethods(), Trials: 2, Rounds: 8, InstrRounds: 6, Protocol: protocol(),
		Alpha: 0.05, MinEffect: 0.05, InstrEffect: 0.01, Slowdown: 0.10, Out: out,
		InstrTrials: 2, InstrPool: 2, ABProcs: 8, AB: ABProtocol{Verifiers: []string{"ttl"}, Rounds: 10, Sample: "1ms", MinEffect: 0.03}}
}

func TestCalibrateFake(t *testing.T) {
	for _, neighbour := range []bool{false, true} {
		t.Run(map[bool]string{false: "quiet", true: "neighbour"}[neighbour], func(t *testing.T) {
			f := &fake{}
			dir := t.TempDir()
			cfg := calConfig(dir)
			cfg.Neighbour = neighbour
			cfg.Rates = filepath.Join(dir, "gate", "rates.json")
			var out, errb bytes.Buffer
			cal, err := Calibrate(context.Background(), cfg, f.env(), &out, &errb)
			if err != nil {
				t.Fatalf("%v\n%s", err, errb.String())
			}
			if len(cal.Methods) != 4 {
				t.Fatalf("%d method rows, want 4", len(cal.Methods))
			}
			for _, r := range cal.Methods {
				if r.FalseAlarms != 0 || r.DetectedAll != 2 || r.Trials != 2 {
					t.Errorf("%s: %+v, want 0 false alarms and 2/2 detected", r.Method, r)
				}
			}
			// Time trials: 3 arms × 8 rounds × 2 trials; instructions: 3
			// calibration runs, then a pool of 2 A processes and 2 slowed
			// ones, resampled; ab: 8 processes per trial.
			if f.rounds["A/time"] != 16 || f.rounds["Aslow0.1/time"] != 16 || f.rounds["A/instructions"] != 3+2 || f.rounds["Aslow0.1/instructions"] != 2 || f.rounds["ab"] != 16 {
				t.Errorf("rounds %v", f.rounds)
			}
			if f.neighbourOn || f.neighbourN != map[bool]int{false: 0, true: 1}[neighbour] {
				t.Errorf("neighbour running %v after %d starts", f.neighbourOn, f.neighbourN)
			}
			for _, w := range []string{"| wall | sec/op | 8 | 2 |", "| instructions | instructions/op | 6 |", "2/2 = 100 %"} {
				if !strings.Contains(out.String(), w) {
					t.Errorf("table lacks %q:\n%s", w, out.String())
				}
			}
			var back Calibration
			js, err := os.ReadFile(filepath.Join(dir, "calibration.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(js, &back); err != nil || back.Neighbour != neighbour || len(back.Methods) != 4 {
				t.Errorf("calibration.json: %v %+v", err, back)
			}
			if _, err := os.Stat(filepath.Join(dir, "calibration.md")); err != nil {
				t.Error(err)
			}
			rates, err := gaterates.Read(cfg.Rates)
			if err != nil || len(rates.Methods) != 4 {
				t.Fatalf("rates: %v %+v", err, rates)
			}
			for _, m := range rates.Methods {
				if m.FalseAlarm.K != 0 || m.FalseAlarm.N != 2 || !(m.FalseAlarm.Hi > 0.8) || len(m.Detection) != 1 || m.Detection[0].Detected.K != 2 {
					t.Errorf("rates %s: %+v", m.Method, m)
				}
			}
		})
	}
}

func TestCalibrateErrors(t *testing.T) {
	f := &fake{noValgrind: true}
	if _, err := Calibrate(context.Background(), calConfig(""), f.env(), &bytes.Buffer{}, &bytes.Buffer{}); !errors.Is(err, ErrNoValgrind) {
		t.Errorf("no valgrind: err %v", err)
	}
	f = &fake{lines: func(Side, Kind, int) string { return "BenchmarkOther-2 10 5 ns/op\n" }}
	cfg := calConfig("")
	cfg.Methods = []Method{CPU}
	if _, err := Calibrate(context.Background(), cfg, f.env(), &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "no cpu-sec/op metric") {
		t.Errorf("no cpu metric: err %v", err)
	}
}

func TestInstructionSlowdown(t *testing.T) {
	f := &fake{lines: func(s Side, _ Kind, _ int) string {
		// bare 600; wrapped +15; each iteration +4 instructions.
		v := 600.0
		for _, e := range s.Env {
			if strings.HasPrefix(e, SlowdownItersEnv+"=") {
				v = 615
				if strings.Contains(e, "ttl=1000") {
					v += 4000
				}
			}
		}
		return fmt.Sprintf("BenchmarkVerify/ttl/hit 20 %g instructions/op\n", v)
	}}
	got, err := instructionSlowdown(context.Background(), Side{Name: "A"}, 0.10, protocol(), f.env())
	if err != nil {
		t.Fatal(err)
	}
	if got["ttl"] != 15 { // 0.10 × 615 / 4 = 15.4: relative to the wrapped hit
		t.Errorf("iterations %v, want ttl=15", got)
	}
}

func TestWriteMarkdownGolden(t *testing.T) {
	cal := &Calibration{Date: "2026-12-01T10:00:00Z", GOOS: "linux", GOARCH: "amd64", NumCPU: 2, Neighbour: true, Slowdown: 0.1, Alpha: 0.05,
		Bench: CalibrationBench, Samples: 10, SampleTime: "10ms", InstrTime: "2000x", Seconds: 600,
		Methods: []MethodResult{
			{Method: Wall, Unit: "sec/op", Rounds: 20, Trials: 20, MinEffect: 0.05, FalseAlarms: 0, DetectedAll: 12, DetectedAny: 19,
				CV: map[string]float64{"Verify/ttl/hit-2": 0.031, "Verify/mtime/hit-2": 0.052}, MedianRatio: map[string]float64{"Verify/ttl/hit-2": 1.1, "Verify/mtime/hit-2": 1.09},
				RecommendedN: 31, RecommendNote: "simulated power 96%, false alarms 0.0%", RoundSeconds: 0.45, GateSeconds: 27.9},
			{Method: Instructions, Unit: "instructions/op", Rounds: 6, Trials: 20, MinEffect: 0.01, DetectedAll: 20, DetectedAny: 20,
				CV: map[string]float64{"Verify/ttl/hit": 0.0006}, MedianRatio: map[string]float64{"Verify/ttl/hit": 1.1},
				RecommendedN: 5, RoundSeconds: 0.8, GateSeconds: 9.6, MeetsTargets: true, SlowdownIters: map[string]int64{"ttl": 11},
				Planted: []PlantedResult{{Slowdown: 0.01, Trials: 100, Detected: 62, DetectedAny: 70, MedianRatio: 1.009}, {Slowdown: 0.02, Trials: 100, Detected: 97, DetectedAny: 99, MedianRatio: 1.02},
					{Slowdown: 0.1, Trials: 20, Detected: 20, DetectedAny: 20, MedianRatio: 1.1}}},
		}}
	for i := range cal.Methods {
		r := &cal.Methods[i]
		r.FalseAlarmRate, r.DetectionRate = float64(r.FalseAlarms)/float64(r.Trials), float64(r.DetectedAll)/float64(r.Trials)
	}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, cal); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "calibration.md")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("calibration table differs from %s (run with -update to accept):\n%s", golden, b.String())
	}
}

func TestParseMethods(t *testing.T) {
	ms, err := ParseMethods("cpu, wall,cpu")
	if err != nil || len(ms) != 2 || ms[0] != CPU || ms[1] != Wall {
		t.Errorf("got %v, %v", ms, err)
	}
	if _, err := ParseMethods("cycles"); err == nil || !strings.Contains(err.Error(), "unknown method") {
		t.Errorf("cycles: err %v", err)
	}
	if def, err := ParseMethods(DefaultMeasure); err != nil || len(def) == 0 {
		t.Errorf("DefaultMeasure %q: %v", DefaultMeasure, err)
	}
}

// TestValgrindErrors runs the real instruction round against stand-ins
// for valgrind on PATH: missing, and failing with a message.
func TestValgrindErrors(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	p := protocol()
	p.Tmp = t.TempDir()
	if _, err := runRound(context.Background(), Side{Name: "A", Src: t.TempDir(), ImplTest: "impl.test"}, InstructionRound, p, "r1"); !errors.Is(err, ErrNoValgrind) ||
		!strings.Contains(err.Error(), "Debian package valgrind") {
		t.Errorf("missing: err %v", err)
	}
	bin := t.TempDir()
	script := "#!/bin/sh\necho 'valgrind: fatal error: unhandled syscall 999' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "valgrind"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":/bin:/usr/bin")
	src := t.TempDir()
	if err := os.Mkdir(filepath.Join(src, "impl"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := runRound(context.Background(), Side{Name: "A", Src: src, ImplTest: "impl.test"}, InstructionRound, p, "r1")
	if err == nil || !strings.Contains(err.Error(), "valgrind failed") || !strings.Contains(err.Error(), "unhandled syscall 999") {
		t.Errorf("failing: err %v, want its stderr tail", err)
	}
}

func TestInstructionLines(t *testing.T) {
	got := string(instructionLines(map[string][]float64{"BenchmarkVerify/ttl/hit": {612.345}, "BenchmarkVerify/generation/hit": {500, 501}}))
	want := "BenchmarkVerify/generation/hit 1 500.00 instructions/op\nBenchmarkVerify/generation/hit 1 501.00 instructions/op\nBenchmarkVerify/ttl/hit 1 612.35 instructions/op\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	s, err := gate.ReadBench(strings.NewReader(got), "x")
	if err != nil || len(s[gate.Key{Name: "Verify/ttl/hit", Unit: "instructions/op"}]) != 1 {
		t.Errorf("not readable as benchmark format: %v %v", s, err)
	}
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
	if err := os.WriteFile(filepath.Join(repo, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "f")
	git("commit", "-q", "-m", "one")
	ctx := context.Background()
	c, err := gitResolve(ctx, repo, "HEAD")
	if err != nil || len(c) != 40 {
		t.Fatalf("HEAD: %q, %v", c, err)
	}
	for _, ref := range []string{"no-such-branch", "origin/main", "--all"} {
		if _, err := gitResolve(ctx, repo, ref); err == nil || !strings.Contains(err.Error(), "unknown ref") {
			t.Errorf("%s: err %v, want unknown ref", ref, err)
		}
	}
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

func TestCachedHits(t *testing.T) {
	re := CachedHits()
	if !strings.Contains(re, "ttl") || strings.Contains(re, "uncached") {
		t.Errorf("instruction default %q: want the cached verifiers only", re)
	}
}

func TestABArms(t *testing.T) {
	raw := "# missing k8s: in A false, in B true\nBenchmarkAB/ttl/hit/arm=A 10 100 ns/op\nBenchmarkAB/ttl/hit/arm=B 10 101 ns/op\nBenchmarkAB/ttl/hit/arm=B+0.1 10 110 ns/op\n"
	arms, err := ABArms([]byte(raw), "p1")
	if err != nil || len(arms) != 3 || len(arms["B+0.1"][gate.Key{Name: "AB/ttl/hit", Unit: "sec/op"}]) != 1 {
		t.Fatalf("arms %v, %v", arms, err)
	}
	gone := "# missing k8s: in A true, in B false\nBenchmarkAB/ttl/hit/arm=A 10 100 ns/op\nBenchmarkAB/ttl/hit/arm=B 10 101 ns/op\n"
	if _, err := ABArms([]byte(gone), "p1"); !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "verifier k8s") {
		t.Errorf("verifier missing from the candidate: err %v", err)
	}
}

func TestABProcessesUnplanted(t *testing.T) {
	env := Env{RunAB: func(context.Context, string, ABProtocol) ([]byte, error) {
		return []byte("# ttl B+0.01: 0 spin iterations = +0.00 % of the 25.0 ns hit (+1 % is less than one standalone iteration of 1.30 ns, none planted)\n" +
			"# ttl B+0.1: 4 spin iterations = +9.60 % measured end-to-end against B (median of 21 pairs of 2000 calls, 2 measurements, 5 ms; standalone estimate 2 iterations = +10.40 % of the 25.0 ns hit)\n" +
			"BenchmarkAB/ttl/hit/arm=A 10 100 ns/op\nBenchmarkAB/ttl/hit/arm=B 10 101 ns/op\nBenchmarkAB/ttl/hit/arm=B+0.01 10 101 ns/op\nBenchmarkAB/ttl/hit/arm=B+0.1 10 110 ns/op\n"), nil
	}}
	arms, unplanted, achieved, err := abProcessesPlanted(context.Background(), "bin", ABProtocol{}, 3, env, "t")
	if err != nil || len(arms["A"][gate.Key{Name: "AB/ttl/hit", Unit: "sec/op"}]) != 3 {
		t.Fatalf("%v %v", arms, err)
	}
	if !unplanted["B+0.01 AB/ttl/hit"] || unplanted["B+0.1 AB/ttl/hit"] {
		t.Errorf("unplanted %v", unplanted)
	}
	if got := achieved["B+0.1"]; len(got) != 3 || math.Abs(got[0]-0.096) > 1e-9 || len(achieved["B+0.01"]) != 0 {
		t.Errorf("achieved %v", achieved)
	}
	if _, _, err := abProcesses(context.Background(), "bin", ABProtocol{}, 1, env, "t"); err != nil {
		t.Error(err)
	}
}

// TestABTrialsPlantedNote checks that the calibration says a planted ab
// level is a measured end-to-end slowdown and quotes the driver's
// measurements, beside the note of a level left unplanted.
func TestABTrialsPlantedNote(t *testing.T) {
	env := Env{RunAB: func(_ context.Context, _ string, p ABProtocol) ([]byte, error) {
		return []byte("# ttl B+0.01: 0 spin iterations = +0.00 % of the 25.0 ns hit (+1 % is less than one standalone iteration of 1.30 ns, none planted)\n" +
			"# ttl B+0.1: 4 spin iterations = +9.60 % measured end-to-end against B (median of 21 pairs of 2000 calls, 2 measurements, 5 ms; standalone estimate 2 iterations = +10.40 % of the 25.0 ns hit)\n" +
			abLines(0, 1, p)), nil
	}}
	cfg := calConfig("")
	cfg.ABProcs, cfg.Trials = 6, 2
	res, err := abTrials(context.Background(), cfg, "bin", []float64{0.01, 0.1}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.TrialsNote, "measured end-to-end slowdown") {
		t.Errorf("trials note %q", res.TrialsNote)
	}
	if n := res.Planted[1].Note; n != "measured end-to-end in the driver: +9.60 % median, +9.60 to +9.60 % over 12 tunings" {
		t.Errorf("+10 %% note %q", n)
	}
	if n := res.Planted[0].Note; !strings.HasPrefix(n, "AB/ttl/hit: +1 % is less than one spin iteration") {
		t.Errorf("+1 %% note %q", n)
	}
}
