package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/authbench/authbench/internal/gate"
	"github.com/authbench/authbench/internal/results"
)

// Defaults of the version-to-version gate, chosen so that `bench gate
// --base REF` finishes within 5 minutes on a 2-core CI runner (see
// docs/gate.md for the measurements behind them).
const (
	defaultRounds    = 12
	defaultBenchtime = "100ms"
	defaultBenchRE   = `BenchmarkVerify/.*/^hit$`
	defaultScenario  = "gate/http.yaml"
	defaultTrials    = 20
	slowdownEnv      = "AUTHBENCH_SLOWDOWN" // read by impl/slowdown_test.go
	slowdownMarker   = "authbench: injected slowdown active"
)

// side is one build under test.
type side struct {
	name     string   // label in progress lines and output files
	src      string   // source root: cwd of the HTTP run
	bench    string   // bench binary
	implTest string   // impl package test binary (go test -c)
	env      []string // extra environment, e.g. the injected slowdown
	noHTTP   bool     // skip the HTTP probe (the slowdown hook cannot reach it)
}

// gateEnv is what runGate needs from the outside world; tests replace it so
// that no real build or benchmark round runs.
type gateEnv struct {
	// resolve returns the commit a ref names in repo.
	resolve func(ctx context.Context, repo, ref string) (string, error)
	// worktree checks commit out into dir and returns its cleanup.
	worktree func(ctx context.Context, repo, commit, dir string) (func() error, error)
	// build compiles the bench binary and the impl test binary of src into out.
	build func(ctx context.Context, src, out, name string) (side, error)
	// round measures s once and returns its metrics in Go benchmark format.
	round func(ctx context.Context, s side, cfg roundConfig, id string) ([]byte, error)
}

// roundConfig says what one round measures.
type roundConfig struct {
	benchRE   string
	benchtime string
	scenario  string // absolute path; empty skips the HTTP run
	tmp       string // scratch for HTTP run directories
}

func realGateEnv() gateEnv {
	return gateEnv{resolve: gitResolve, worktree: gitWorktree, build: goBuild, round: runRound}
}

func runGate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	return gateMain(ctx, args, stdout, stderr, realGateEnv())
}

type gateOpts struct {
	results, thresholds       string
	baseline, candidate       string
	base                      string
	calibrate                 bool
	rounds, trials            int
	benchtime, benchRE        string
	scenario, repo, out       string
	minEffect, alpha, slowdwn float64
}

func gateMain(ctx context.Context, args []string, stdout, stderr io.Writer, env gateEnv) error {
	fs := flag.NewFlagSet("gate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o gateOpts
	fs.StringVar(&o.results, "results", "", "semantic gate: check a reports/<run-id>/ directory (results.json) against the thresholds")
	fs.StringVar(&o.thresholds, "thresholds", "", "thresholds file (default: gate/thresholds.yaml in --repo, else the built-in copy)")
	fs.StringVar(&o.baseline, "baseline", "", "comma-separated Go benchmark files of the base (with --candidate)")
	fs.StringVar(&o.candidate, "candidate", "", "comma-separated Go benchmark files of the candidate (with --baseline)")
	fs.StringVar(&o.base, "base", "", "git ref to build and compare the working tree against")
	fs.BoolVar(&o.calibrate, "calibrate", false, "measure the gate's false-alarm and detection rates on this machine")
	fs.IntVar(&o.rounds, "rounds", defaultRounds, "interleaved rounds per side (--base, --calibrate)")
	fs.IntVar(&o.trials, "trials", defaultTrials, "A/A and A/A' trials (--calibrate)")
	fs.StringVar(&o.benchtime, "benchtime", defaultBenchtime, "-benchtime of each microbenchmark round")
	fs.StringVar(&o.benchRE, "bench", defaultBenchRE, "-bench pattern of the impl microbenchmarks")
	fs.StringVar(&o.scenario, "scenario", defaultScenario, "HTTP probe scenario run each round, relative to --repo (empty: microbenchmarks only)")
	fs.StringVar(&o.repo, "repo", ".", "git checkout whose working tree is the candidate")
	fs.StringVar(&o.out, "out", "", "keep the raw base/candidate benchmark output in this directory")
	fs.Float64Var(&o.minEffect, "min-effect", 0.05, "smallest change that counts, as a fraction (0.05 = 5%)")
	fs.Float64Var(&o.alpha, "alpha", 0.05, "family-wise error rate over all metrics (Holm)")
	fs.Float64Var(&o.slowdwn, "slowdown", 0.10, "hit-path slowdown injected in the A/A' trials (--calibrate)")
	if err := fs.Parse(args); err != nil {
		return exitCode(2, err)
	}
	if fs.NArg() > 0 {
		return exitCode(2, fmt.Errorf("unexpected arguments %q (flags only)", fs.Args()))
	}
	modes := 0
	for _, on := range []bool{o.results != "", o.baseline != "" || o.candidate != "", o.base != "", o.calibrate} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		return exitCode(2, errors.New("usage: bench gate --results DIR | --baseline OLD.txt --candidate NEW.txt | --base REF | --calibrate"))
	}
	if !(o.minEffect > 0 && o.minEffect < 1) {
		return exitCode(2, fmt.Errorf("--min-effect %v: want a fraction in (0, 1)", o.minEffect))
	}
	if !(o.alpha > 0 && o.alpha < 1) {
		return exitCode(2, fmt.Errorf("--alpha %v: want a value in (0, 1)", o.alpha))
	}
	if o.rounds < 2 || o.trials < 1 {
		return exitCode(2, fmt.Errorf("--rounds %d / --trials %d: want at least 2 rounds and 1 trial", o.rounds, o.trials))
	}
	copts := gate.Options{Alpha: o.alpha, MinEffect: o.minEffect}
	switch {
	case o.results != "":
		return gateSemantic(o, stdout)
	case o.base != "":
		return gateBase(ctx, o, copts, stdout, stderr, env)
	case o.calibrate:
		return gateCalibrate(ctx, o, copts, stdout, stderr, env)
	}
	if o.baseline == "" || o.candidate == "" {
		return exitCode(2, errors.New("--baseline and --candidate go together"))
	}
	base, err := gate.ReadBenchFiles(splitList(o.baseline)...)
	if err != nil {
		return exitCode(2, fmt.Errorf("baseline: %w", err))
	}
	cand, err := gate.ReadBenchFiles(splitList(o.candidate)...)
	if err != nil {
		return exitCode(2, fmt.Errorf("candidate: %w", err))
	}
	return compareAndPrint(base, cand, copts, stdout)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// compareAndPrint runs the statistical gate and maps its outcome to the
// exit code: 0 pass, 1 regression, 2 anything that prevents a verdict.
func compareAndPrint(base, cand gate.Samples, opts gate.Options, stdout io.Writer) error {
	rep, err := gate.Compare(base, cand, opts)
	if err != nil {
		return exitCode(2, err)
	}
	if err := rep.WriteTable(stdout); err != nil {
		return exitCode(2, err)
	}
	if rep.Failed() {
		var names []string
		for _, m := range rep.Regressions() {
			names = append(names, m.Key.String())
		}
		return exitCode(1, fmt.Errorf("performance regression in %d metric(s): %s", len(names), strings.Join(names, ", ")))
	}
	fmt.Fprintln(stdout, "gate: pass")
	return nil
}

// gateSemantic checks results.json against the thresholds file.
func gateSemantic(o gateOpts, stdout io.Writer) error {
	th, src, err := loadThresholds(o.thresholds, o.repo)
	if err != nil {
		return exitCode(2, err)
	}
	res, err := results.Read(o.results)
	if err != nil {
		return exitCode(2, err)
	}
	fs := gate.CheckSemantic(res, th)
	fmt.Fprintf(stdout, "semantic gate: %s against %s\n", o.results, src)
	if err := gate.WriteFindings(stdout, fs); err != nil {
		return exitCode(2, err)
	}
	if !slices.ContainsFunc(fs, func(f gate.Finding) bool { return f.Status != gate.NoData }) {
		// Nothing checked is not a pass: the results are empty or foreign.
		return exitCode(2, fmt.Errorf("no threshold applies to any run in %s: nothing was checked", o.results))
	}
	if gate.AnyFailed(fs) {
		n := 0
		for _, f := range fs {
			if f.Status == gate.Fail {
				n++
			}
		}
		return exitCode(1, fmt.Errorf("%d semantic check(s) failed", n))
	}
	fmt.Fprintln(stdout, "gate: pass")
	return nil
}

func loadThresholds(flagPath, repo string) (gate.Thresholds, string, error) {
	if flagPath != "" {
		th, err := gate.LoadThresholds(flagPath)
		return th, flagPath, err
	}
	p := filepath.Join(repo, "gate", "thresholds.yaml")
	if _, err := os.Stat(p); err == nil {
		th, err := gate.LoadThresholds(p)
		return th, p, err
	}
	return gate.DefaultThresholds(), "built-in thresholds", nil
}

// gateBase builds REF and the working tree and compares them.
func gateBase(ctx context.Context, o gateOpts, copts gate.Options, stdout, stderr io.Writer, env gateEnv) error {
	start := time.Now()
	repo, err := filepath.Abs(o.repo)
	if err != nil {
		return exitCode(2, err)
	}
	commit, err := env.resolve(ctx, repo, o.base)
	if err != nil {
		return exitCode(2, err)
	}
	tmp, err := os.MkdirTemp("", "bench-gate-")
	if err != nil {
		return exitCode(2, fmt.Errorf("temp dir: %w", err))
	}
	defer os.RemoveAll(tmp)
	cfg, err := newRoundConfig(o, repo, tmp)
	if err != nil {
		return exitCode(2, err)
	}
	wt := filepath.Join(tmp, "base")
	cleanup, err := env.worktree(ctx, repo, commit, wt)
	if err != nil {
		return exitCode(2, err)
	}
	defer func() {
		if err := cleanup(); err != nil {
			fmt.Fprintln(stderr, "bench gate: warning:", err)
		}
	}()
	fmt.Fprintf(stderr, "gate: base %s (%s) vs working tree %s, %d interleaved rounds\n", o.base, shortSHA(commit), repo, o.rounds)
	baseSide, err := env.build(ctx, wt, filepath.Join(tmp, "bin-base"), "base")
	if err != nil {
		return exitCode(2, fmt.Errorf("base %s does not build: %w", o.base, err))
	}
	candSide, err := env.build(ctx, repo, filepath.Join(tmp, "bin-cand"), "cand")
	if err != nil {
		return exitCode(2, fmt.Errorf("working tree does not build: %w", err))
	}
	fmt.Fprintf(stderr, "gate: built both sides in %s\n", time.Since(start).Round(time.Second))
	got, err := interleave(ctx, []side{baseSide, candSide}, o.rounds, cfg, copts, env, stderr)
	if err != nil {
		return exitCode(2, err)
	}
	if o.out != "" {
		if err := saveRaw(o.out, got); err != nil {
			return exitCode(2, err)
		}
	}
	fmt.Fprintf(stderr, "gate: measured in %s\n", time.Since(start).Round(time.Second))
	return compareAndPrint(got[0].samples, got[1].samples, copts, stdout)
}

func newRoundConfig(o gateOpts, repo, tmp string) (roundConfig, error) {
	cfg := roundConfig{benchRE: o.benchRE, benchtime: o.benchtime, tmp: tmp}
	if o.scenario != "" {
		p := o.scenario
		if !filepath.IsAbs(p) {
			p = filepath.Join(repo, p)
		}
		if _, err := os.Stat(p); err != nil {
			return cfg, fmt.Errorf("gate scenario: %w", err)
		}
		cfg.scenario = p
	}
	return cfg, nil
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// measured is what the rounds of one side produced.
type measured struct {
	side    side
	samples gate.Samples
	raw     bytes.Buffer
}

// interleave runs rounds of every side, rotating the order each round (A B,
// B A, … for two sides) so that drift in machine load and any
// first-or-second effect fall on all sides alike.
func interleave(ctx context.Context, sides []side, rounds int, cfg roundConfig, copts gate.Options, env gateEnv, progress io.Writer) ([]*measured, error) {
	out := make([]*measured, len(sides))
	for i, s := range sides {
		out[i] = &measured{side: s, samples: gate.Samples{}}
	}
	for r := 0; r < rounds; r++ {
		t := time.Now()
		for j := range sides {
			m := out[(j+r)%len(sides)]
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("interrupted in round %d: %w", r+1, err)
			}
			raw, err := env.round(ctx, m.side, cfg, fmt.Sprintf("r%02d-%s", r+1, m.side.name))
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", r+1, m.side.name, err)
			}
			s, err := gate.ReadBench(bytes.NewReader(raw), fmt.Sprintf("%s round %d", m.side.name, r+1))
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", r+1, m.side.name, err)
			}
			m.samples.Merge(s)
			m.raw.Write(raw)
		}
		if r == 0 {
			// The metric count is known now: refuse a round count that
			// could never flag anything before spending minutes on it.
			if need := gate.MinRounds(copts.Alpha, len(out[0].samples)); rounds < need {
				return nil, fmt.Errorf("%w: %d rounds cannot reach the confidence needed for %d metrics at alpha %g; use --rounds %d or more",
					gate.ErrTooFewSamples, rounds, len(out[0].samples), copts.Alpha, need)
			}
		}
		fmt.Fprintf(progress, "gate: round %d/%d in %s\n", r+1, rounds, time.Since(t).Round(100*time.Millisecond))
	}
	return out, nil
}

func saveRaw(dir string, ms []*measured) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	for _, m := range ms {
		if err := os.WriteFile(filepath.Join(dir, m.side.name+".txt"), m.raw.Bytes(), 0o644); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	return nil
}

// gateCalibrate runs A/A and A/A' trials of the working tree against
// itself. Each round measures three interleaved arms (A, A again, and A'
// with the injected slowdown); trial t uses rounds of its own, so trials
// are independent, and the A/A and A/A' trials share their first arm.
func gateCalibrate(ctx context.Context, o gateOpts, copts gate.Options, stdout, stderr io.Writer, env gateEnv) error {
	start := time.Now()
	repo, err := filepath.Abs(o.repo)
	if err != nil {
		return exitCode(2, err)
	}
	tmp, err := os.MkdirTemp("", "bench-gate-cal-")
	if err != nil {
		return exitCode(2, fmt.Errorf("temp dir: %w", err))
	}
	defer os.RemoveAll(tmp)
	cfg, err := newRoundConfig(o, repo, tmp)
	if err != nil {
		return exitCode(2, err)
	}
	a, err := env.build(ctx, repo, filepath.Join(tmp, "bin"), "A")
	if err != nil {
		return exitCode(2, fmt.Errorf("working tree does not build: %w", err))
	}
	a2, slow := a, a
	a2.name = "A2"
	slow.name = "Aslow"
	slow.env = append(slices.Clone(a.env), fmt.Sprintf("%s=%g", slowdownEnv, o.slowdwn))
	// The slowdown hook only touches the microbenchmarks; the HTTP probe
	// of A' would be one more A/A sample, so it reuses A2's.
	slow.noHTTP = true
	var aa, as []calTrial
	var aSamples []gate.Samples
	for t := 0; t < o.trials; t++ {
		fmt.Fprintf(stderr, "calibrate: trial %d/%d (%s elapsed)\n", t+1, o.trials, time.Since(start).Round(time.Second))
		got, err := interleave(ctx, []side{a, a2, slow}, o.rounds, cfg, copts, env, io.Discard)
		if err != nil {
			return exitCode(2, err)
		}
		sl := got[2].samples
		// A' = the slowed microbenchmarks plus A2's HTTP metrics.
		slowed := gate.Samples{}
		slowed.Merge(sl)
		for k, v := range got[1].samples {
			if _, ok := sl[k]; !ok {
				slowed[k] = v
			}
		}
		r1, err := gate.Compare(got[0].samples, got[1].samples, copts)
		if err != nil {
			return exitCode(2, fmt.Errorf("trial %d A/A: %w", t+1, err))
		}
		r2, err := gate.Compare(got[0].samples, slowed, copts)
		if err != nil {
			return exitCode(2, fmt.Errorf("trial %d A/A': %w", t+1, err))
		}
		aa = append(aa, newCalTrial(r1, sl))
		as = append(as, newCalTrial(r2, sl))
		aSamples = append(aSamples, got[0].samples, got[1].samples)
	}
	fmt.Fprintf(stderr, "calibrate: %d trials in %s\n", o.trials, time.Since(start).Round(time.Second))
	return writeCalibration(stdout, o, copts, aa, as, aSamples, time.Since(start))
}

// calTrial summarises one calibration comparison.
type calTrial struct {
	failed    bool                 // any metric flagged
	flagged   map[gate.Key]bool    // metrics flagged as regressions
	ratio     map[gate.Key]float64 // Hodges–Lehmann cand/base
	slowKeys  []gate.Key           // the sec/op metrics the slowdown targets
	otherFlag bool                 // a metric outside slowKeys flagged
}

func newCalTrial(r *gate.Report, slowed gate.Samples) calTrial {
	c := calTrial{failed: r.Failed(), flagged: map[gate.Key]bool{}, ratio: map[gate.Key]float64{}}
	for _, m := range r.Metrics {
		c.ratio[m.Key] = m.Ratio
		if m.Verdict == gate.Regression {
			c.flagged[m.Key] = true
		}
	}
	for k := range slowed {
		if k.Unit == "sec/op" {
			c.slowKeys = append(c.slowKeys, k)
		}
	}
	for k := range c.flagged {
		if !slices.Contains(c.slowKeys, k) {
			c.otherFlag = true
		}
	}
	return c
}

func writeCalibration(w io.Writer, o gateOpts, copts gate.Options, aa, as []calTrial, aSamples []gate.Samples, took time.Duration) error {
	k := len(aa)
	falseAlarms, detectAny, detectAll := 0, 0, 0
	perMetric := map[gate.Key]int{}
	var slowKeys []gate.Key
	for i := range aa {
		if aa[i].failed {
			falseAlarms++
		}
		slowKeys = as[i].slowKeys
		any, all := false, len(slowKeys) > 0
		for _, key := range slowKeys {
			if as[i].flagged[key] {
				any = true
				perMetric[key]++
			} else {
				all = false
			}
		}
		if any {
			detectAny++
		}
		if all {
			detectAll++
		}
	}
	sort.Slice(slowKeys, func(i, j int) bool { return slowKeys[i].Name < slowKeys[j].Name })
	pct := func(n int) string { return fmt.Sprintf("%d/%d = %.0f%%", n, k, 100*float64(n)/float64(k)) }
	fmt.Fprintf(w, "calibration: %d A/A and %d A/A' trials, %d interleaved rounds each, alpha %g, min effect %g%%, injected slowdown %g%% (%s in all)\n",
		k, k, o.rounds, copts.Alpha, 100*copts.MinEffect, 100*o.slowdwn, took.Round(time.Second))
	fmt.Fprintf(w, "A/A false-alarm rate (gate failed):             %s\n", pct(falseAlarms))
	fmt.Fprintf(w, "A/A' detection, every slowed metric flagged:     %s\n", pct(detectAll))
	fmt.Fprintf(w, "A/A' detection, at least one slowed metric:      %s\n", pct(detectAny))

	cvs := gate.NoiseCV(aSamples...)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\nmetric\tunit\tnoise CV\tA/A' detected\tA/A' median ratio\n")
	keys := make([]gate.Key, 0, len(cvs))
	for key := range cvs {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	var family, slowCVs []float64
	for _, key := range keys {
		cv := cvs[key]
		det, ratio := "", ""
		if slices.Contains(slowKeys, key) {
			det = fmt.Sprintf("%d/%d", perMetric[key], k)
			var rs []float64
			for _, t := range as {
				rs = append(rs, t.ratio[key])
			}
			ratio = strconv.FormatFloat(medianOf(rs), 'f', 3, 64)
			slowCVs = append(slowCVs, cv)
		}
		if cv > 0 {
			family = append(family, cv)
		}
		noise := fmt.Sprintf("%.1f%%", 100*cv)
		if math.IsNaN(cv) {
			noise = "- (zeros)" // log of zero values: a constant count
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", key.Name, key.Unit, noise, det, ratio)
	}
	if err := tw.Flush(); err != nil {
		return exitCode(2, err)
	}
	// The simulations assume lognormal noise at the measured CVs and the
	// whole family of metrics in one Holm correction.
	spec := gate.PowerSpec{Slowdown: o.slowdwn, Trials: 200}
	fmt.Fprintln(w)
	if len(family) > 0 {
		mdeOf := func(label string, cvs []float64) {
			if len(cvs) == 0 {
				return
			}
			padded := padFamily(cvs, len(family))
			if mde, err := gate.MinDetectableEffect(padded, o.rounds, copts, spec); err != nil {
				fmt.Fprintf(w, "smallest detectable slowdown (%s, N=%d): none: %v\n", label, o.rounds, err)
			} else {
				fmt.Fprintf(w, "smallest detectable slowdown (%s, N=%d, 95%% power): %.1f%%\n", label, o.rounds, 100*mde)
			}
			if rec, err := gate.RecommendN(padded, copts, spec); err != nil {
				fmt.Fprintf(w, "recommended N (%s): none: %v\n", label, err)
			} else {
				fmt.Fprintf(w, "recommended N (%s) for %g%% at 95%% power, <=1%% false alarms: %d (simulated power %.0f%%, false alarms %.1f%%)\n",
					label, 100*o.slowdwn, rec.N, 100*rec.Power, 100*rec.FalseAlarm)
			}
		}
		mdeOf("slowed hit-path metrics", nonZero(slowCVs))
		mdeOf("every metric", family)
	}
	fmt.Fprintln(w, "note: measured on this machine as it was loaded during the run; rerun when the load changes.")
	return nil
}

// padFamily keeps the Holm family size of the real gate when simulating a
// subset: the other metrics are given negligible noise, so they never
// limit power but still dilute alpha as in the real comparison.
func padFamily(cvs []float64, family int) []float64 {
	out := slices.Clone(cvs)
	for len(out) < family {
		out = append(out, 1e-6)
	}
	return out
}

func nonZero(xs []float64) []float64 {
	var out []float64
	for _, x := range xs {
		if x > 0 {
			out = append(out, x)
		}
	}
	return out
}

func medianOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

// gitResolve returns the commit ref names, or a clear error.
func gitResolve(ctx context.Context, repo, ref string) (string, error) {
	if strings.HasPrefix(ref, "-") {
		return "", fmt.Errorf("unknown ref %q", ref)
	}
	cmd := exec.CommandContext(ctx, "git", "-C", repo, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("unknown ref %q in %s (for a PR base, fetch with fetch-depth: 0)", ref, repo)
	}
	return strings.TrimSpace(string(out)), nil
}

// gitWorktree checks commit out into dir as a detached worktree.
func gitWorktree(ctx context.Context, repo, commit, dir string) (func() error, error) {
	if out, err := exec.CommandContext(ctx, "git", "-C", repo, "worktree", "add", "--detach", "--quiet", dir, commit).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("git worktree add %s: %w: %s", shortSHA(commit), err, tail(out))
	}
	return func() error {
		// Not ctx: the worktree must go even after Ctrl-C.
		out, err := exec.Command("git", "-C", repo, "worktree", "remove", "--force", dir).CombinedOutput()
		if err != nil {
			return fmt.Errorf("git worktree remove %s: %w: %s", dir, err, tail(out))
		}
		return nil
	}, nil
}

// goBuild compiles src's bench command and its impl test binary, once, so
// that rounds never recompile.
func goBuild(ctx context.Context, src, out, name string) (side, error) {
	s := side{name: name, src: src, bench: filepath.Join(out, "bench"), implTest: filepath.Join(out, "impl.test")}
	for _, args := range [][]string{
		{"build", "-o", s.bench, "./cmd/bench"},
		{"test", "-c", "-o", s.implTest, "./impl/"},
	} {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = src
		if b, err := cmd.CombinedOutput(); err != nil {
			return s, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, tail(b))
		}
	}
	return s, nil
}

// runRound runs the microbenchmarks and, if configured, the HTTP probe of
// one side once and returns their output in Go benchmark format.
func runRound(ctx context.Context, s side, cfg roundConfig, id string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.implTest, "-test.run", "^$", "-test.bench", cfg.benchRE,
		"-test.benchtime", cfg.benchtime, "-test.count", "1")
	cmd.Dir = filepath.Join(s.src, "impl")
	cmd.Env = append(os.Environ(), s.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("microbenchmarks: %w: %s", err, tail(append(out, stderr.Bytes()...)))
	}
	if slices.ContainsFunc(s.env, func(e string) bool { return strings.HasPrefix(e, slowdownEnv+"=") }) &&
		!bytes.Contains(stderr.Bytes(), []byte(slowdownMarker)) {
		return nil, fmt.Errorf("%s is set but the test binary did not confirm it (no impl/slowdown_test.go in this build?)", slowdownEnv)
	}
	if cfg.scenario == "" || s.noHTTP {
		return out, nil
	}
	dir := filepath.Join(cfg.tmp, "http")
	run := exec.CommandContext(ctx, s.bench, "run", "--quick", "--progress=false", "--id", id, "--out", dir, cfg.scenario)
	run.Dir = s.src
	run.Env = append(os.Environ(), s.env...)
	if b, err := run.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("HTTP probe: %w: %s", err, tail(b))
	}
	defer os.RemoveAll(filepath.Join(dir, id))
	http, err := os.ReadFile(filepath.Join(dir, id, "bench.txt"))
	if err != nil {
		return nil, fmt.Errorf("HTTP probe: %w", err)
	}
	return append(out, http...), nil
}

// tail keeps the end of a command's output for an error message.
func tail(b []byte) string {
	const max = 2000
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = "…" + s[len(s)-max:]
	}
	return s
}
