package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/authbench/authbench/internal/gate"
	"github.com/authbench/authbench/internal/gaterun"
	"github.com/authbench/authbench/internal/neighbour"
)

// Defaults of the version-to-version gate. The protocol (best of k short
// samples per round) and the round counts follow issue 10's measurements;
// docs/gate.md has the calibration behind them. The default method is
// gaterun.DefaultMeasure.
const (
	defaultRounds      = 12
	defaultInstrRounds = 6
	defaultSamples     = 5
	defaultSampleTime  = "10ms"
	defaultInstrTime   = "2000x"
	defaultBenchRE     = `BenchmarkVerify/.*/^hit$`
	defaultScenario    = "gate/http.yaml"
	defaultTrials      = 20
)

func runGate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return exitCode(2, fmt.Errorf("find own binary for the neighbour: %w", err))
	}
	return gateMain(ctx, args, stdin, stdout, stderr, gaterun.RealEnv([]string{self, "gate", "--neighbour-child"}))
}

type gateOpts struct {
	results, thresholds       string
	baseline, candidate       string
	base                      string
	calibrate, neighbour      bool
	neighbourChild            bool
	measure                   string
	rounds, instrRounds       int
	samples, trials           int
	sampleTime, instrTime     string
	benchRE                   string
	scenario, repo, out       string
	minEffect, instrMinEffect float64
	alpha, slowdown, abEffect float64
	planted, rates, abSample  string
	summary                   string
	fdr                       bool
	instrTrials, instrPool    int
	abProcs, abRounds         int
}

func gateMain(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env gaterun.Env) error {
	fs := flag.NewFlagSet("gate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o gateOpts
	fs.StringVar(&o.results, "results", "", "semantic gate: check a reports/<run-id>/ directory (results.json) against the thresholds")
	fs.StringVar(&o.thresholds, "thresholds", "", "thresholds file (default: gate/thresholds.yaml in --repo, else the built-in copy)")
	fs.StringVar(&o.baseline, "baseline", "", "comma-separated Go benchmark files of the base (with --candidate)")
	fs.StringVar(&o.candidate, "candidate", "", "comma-separated Go benchmark files of the candidate (with --baseline)")
	fs.StringVar(&o.base, "base", "", "git ref to build and compare the working tree against")
	fs.BoolVar(&o.calibrate, "calibrate", false, "measure the gate's false-alarm and detection rates on this machine")
	fs.BoolVar(&o.neighbour, "neighbour", false, "run a bounded noisy neighbour beside the calibration rounds (--calibrate)")
	fs.BoolVar(&o.neighbourChild, "neighbour-child", false, "internal: be the noisy neighbour process")
	fs.StringVar(&o.measure, "measure", "", "methods, comma-separated: wall, cpu, instructions (default "+gaterun.DefaultMeasure+" for --base, all for --calibrate)")
	fs.IntVar(&o.rounds, "rounds", defaultRounds, "interleaved time rounds per side (--base, --calibrate)")
	fs.IntVar(&o.instrRounds, "instr-rounds", defaultInstrRounds, "interleaved instruction-count rounds per side")
	fs.IntVar(&o.samples, "samples", defaultSamples, "k: short samples per benchmark and time round; the best one is kept")
	fs.StringVar(&o.sampleTime, "sample-time", defaultSampleTime, "-benchtime of each sample")
	fs.StringVar(&o.instrTime, "instr-time", defaultInstrTime, "-benchtime under callgrind: a fixed count, so no repetition depends on wall time")
	fs.IntVar(&o.trials, "trials", defaultTrials, "A/A and A/A' trials per method (--calibrate)")
	fs.StringVar(&o.benchRE, "bench", "", "-bench pattern of the impl microbenchmarks (default "+defaultBenchRE+"; --calibrate: "+gaterun.CalibrationBench+")")
	fs.StringVar(&o.scenario, "scenario", defaultScenario, "HTTP probe scenario run each time round, relative to --repo (empty: microbenchmarks only)")
	fs.StringVar(&o.repo, "repo", ".", "git checkout whose working tree is the candidate")
	fs.StringVar(&o.out, "out", "", "keep raw round output (--base) or calibration.json/.md (--calibrate) in this directory")
	fs.Float64Var(&o.minEffect, "min-effect", gaterun.Wall.DefaultMinEffect(), "smallest change that counts for time metrics, as a fraction (0.05 = 5%)")
	fs.Float64Var(&o.instrMinEffect, "instr-min-effect", gaterun.Instructions.DefaultMinEffect(), "smallest change that counts for instructions/op")
	fs.Float64Var(&o.alpha, "alpha", 0.05, "family-wise error rate over all metrics (Holm)")
	fs.Float64Var(&o.slowdown, "slowdown", 0.10, "hit-path slowdown injected in the A/A' trials (--calibrate)")
	fs.StringVar(&o.planted, "planted", "0.01,0.02,0.05,0.10", "slowdowns planted for the smallest detectable change (--calibrate)")
	fs.StringVar(&o.rates, "rates", "", "write the rates file (false alarms, detection, smallest change, 95 % intervals) here (--calibrate)")
	fs.BoolVar(&o.fdr, "fdr", true, "Benjamini–Hochberg over each family's metrics (false: Holm)")
	fs.IntVar(&o.instrTrials, "instr-trials", 200, "resampled A/A and A/A' instruction trials per planted level (--calibrate)")
	fs.IntVar(&o.instrPool, "instr-pool", 3, "A processes the instruction trials draw from (--calibrate)")
	fs.IntVar(&o.abProcs, "ab-procs", 10, "in-process A/B (method ab): driver processes, the paired samples")
	fs.IntVar(&o.abRounds, "ab-rounds", 40, "in-process A/B: interleaved rounds per verifier in one process")
	fs.StringVar(&o.abSample, "ab-sample", "250us", "in-process A/B: length of one sample")
	fs.Float64Var(&o.abEffect, "ab-min-effect", gaterun.AB.DefaultMinEffect(), "smallest change that counts for the in-process A/B")
	fs.StringVar(&o.summary, "summary", "", "append the verdict block (Markdown, with the calibrated rates) to this file, e.g. $GITHUB_STEP_SUMMARY")
	if err := fs.Parse(args); err != nil {
		return exitCode(2, err)
	}
	if fs.NArg() > 0 {
		return exitCode(2, fmt.Errorf("unexpected arguments %q (flags only)", fs.Args()))
	}
	if o.neighbourChild {
		return exitOf(neighbour.Serve(ctx, stdin, neighbour.DefaultShape))
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
	if err := o.validate(); err != nil {
		return exitCode(2, err)
	}
	switch {
	case o.results != "":
		return exitOf(gaterun.WithSummary(o.summary, "semantic gate of `"+o.results+"`", o.repo, stdout, func(w io.Writer) error {
			return gaterun.Semantic(o.results, o.thresholds, o.repo, w)
		}))
	case o.base != "":
		cfg, err := o.baseConfig()
		if err != nil {
			return exitCode(2, err)
		}
		return exitOf(gaterun.Base(ctx, cfg, env, stdout, stderr))
	case o.calibrate:
		cfg, err := o.calConfig()
		if err != nil {
			return exitCode(2, err)
		}
		_, err = gaterun.Calibrate(ctx, cfg, env, stdout, stderr)
		return exitOf(err)
	}
	if o.baseline == "" || o.candidate == "" {
		return exitCode(2, errors.New("--baseline and --candidate go together"))
	}
	return exitOf(gaterun.Files(splitList(o.baseline), splitList(o.candidate), gate.Options{Alpha: o.alpha, MinEffect: o.minEffect, FDR: o.fdr}, stdout))
}

func (o gateOpts) validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"--min-effect", o.minEffect}, {"--instr-min-effect", o.instrMinEffect}, {"--ab-min-effect", o.abEffect}, {"--alpha", o.alpha}} {
		if !(f.v > 0 && f.v < 1) {
			return fmt.Errorf("%s %v: want a fraction in (0, 1)", f.name, f.v)
		}
	}
	if o.rounds < 2 || o.instrRounds < 2 || o.abProcs < 2 || o.instrPool < 2 || o.trials < 1 || o.samples < 1 || o.instrTrials < 1 || o.abRounds < 1 {
		return fmt.Errorf("--rounds %d, --instr-rounds %d, --ab-procs %d, --instr-pool %d, --trials %d, --samples %d, --instr-trials %d, --ab-rounds %d: want at least 2 of the first four and 1 of the others",
			o.rounds, o.instrRounds, o.abProcs, o.instrPool, o.trials, o.samples, o.instrTrials, o.abRounds)
	}
	if !(o.slowdown > 0 && o.slowdown <= 10) {
		return fmt.Errorf("--slowdown %v: want a fraction in (0, 10]", o.slowdown)
	}
	return nil
}

func (o gateOpts) methods(def string) ([]gaterun.Method, error) {
	if o.measure == "" {
		return gaterun.ParseMethods(def)
	}
	return gaterun.ParseMethods(o.measure)
}

// protocol fills in the round settings; without --bench, time rounds use
// benchDef and instruction rounds instrDef.
func (o gateOpts) protocol(benchDef, instrDef string) gaterun.Protocol {
	p := gaterun.Protocol{BenchRE: o.benchRE, InstrBench: o.benchRE, Samples: o.samples, SampleTime: o.sampleTime, InstrTime: o.instrTime}
	if o.benchRE == "" {
		p.BenchRE, p.InstrBench = benchDef, instrDef
	}
	return p
}

func (o gateOpts) baseConfig() (gaterun.Config, error) {
	ms, err := o.methods(gaterun.DefaultMeasure)
	if err != nil {
		return gaterun.Config{}, err
	}
	repo, err := filepath.Abs(o.repo)
	if err != nil {
		return gaterun.Config{}, err
	}
	p := o.protocol(defaultBenchRE, gaterun.CachedHits())
	if p.Scenario, err = gaterun.ProbeScenario(o.scenario, repo); err != nil {
		return gaterun.Config{}, err
	}
	return gaterun.Config{Repo: repo, Base: o.base, Methods: ms, Rounds: o.rounds, InstrRounds: o.instrRounds, Protocol: p,
		Alpha: o.alpha, MinEffect: o.minEffect, InstrEffect: o.instrMinEffect, Out: o.out, FDR: o.fdr, Summary: o.summary,
		AB: gaterun.ABProtocol{Verifiers: gaterun.CachedVerifiers(), Rounds: o.abRounds, Sample: o.abSample, MinEffect: o.abEffect}, ABProcs: o.abProcs}, nil
}

func (o gateOpts) calConfig() (gaterun.CalConfig, error) {
	all := make([]string, 0, 4)
	for _, m := range gaterun.AllMethods() {
		all = append(all, string(m))
	}
	ms, err := o.methods(strings.Join(all, ","))
	if err != nil {
		return gaterun.CalConfig{}, err
	}
	repo, err := filepath.Abs(o.repo)
	if err != nil {
		return gaterun.CalConfig{}, err
	}
	planted, err := gaterun.ParseFractions(o.planted)
	if err != nil {
		return gaterun.CalConfig{}, err
	}
	return gaterun.CalConfig{Repo: repo, Methods: ms, Trials: o.trials, Rounds: o.rounds, InstrRounds: o.instrRounds,
		Protocol: o.protocol(gaterun.CalibrationBench, gaterun.CalibrationBench), Alpha: o.alpha, MinEffect: o.minEffect, InstrEffect: o.instrMinEffect,
		Slowdown: o.slowdown, Neighbour: o.neighbour, Out: o.out, Planted: planted, FDR: o.fdr, InstrTrials: o.instrTrials, InstrPool: o.instrPool,
		AB: gaterun.ABProtocol{Verifiers: gaterun.CalibrationVerifiers(), Rounds: o.abRounds, Sample: o.abSample, MinEffect: o.abEffect}, ABProcs: o.abProcs, Rates: o.rates}, nil
}

// exitOf maps a gaterun outcome to the exit code: 1 for a regression, 2
// for anything that prevented a verdict.
func exitOf(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gaterun.ErrRegression):
		return exitCode(1, err)
	}
	return exitCode(2, err)
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
