package gaterun

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/authbench/authbench/internal/gate"
	"github.com/authbench/authbench/internal/gaterates"
)

// CalibrationBench is the default -test.bench of a calibration: the hit
// paths of three verifiers (no syscall, a stat, a once-per-TTL stat), so
// that ≥ 20 trials of every method fit the budget on 2 cores.
const CalibrationBench = `BenchmarkVerify/^(generation|mtime|ttl)$/^hit$`

// CalConfig is one `bench gate --calibrate` run.
type CalConfig struct {
	Repo        string
	Methods     []Method
	Trials      int
	Rounds      int // time rounds per arm and trial
	InstrRounds int // instruction rounds per arm and trial
	Protocol    Protocol
	Alpha       float64
	MinEffect   float64 // time methods
	InstrEffect float64
	Slowdown    float64 // injected in the A' arm
	Neighbour   bool    // run the noisy neighbour beside the rounds
	Out         string  // write calibration.json and calibration.md here

	// Planted are the slowdowns whose detection is measured, for the
	// smallest detectable change (default: Slowdown alone).
	Planted []float64
	// FDR judges every trial with Benjamini–Hochberg, as the gate does.
	FDR bool
	// InstrTrials is the number of resampled A/A (and per planted level
	// A/A') instruction trials; InstrPool the A processes they draw from.
	InstrTrials, InstrPool int
	// AB is one in-process A/B process; ABProcs processes make a trial.
	AB      ABProtocol
	ABProcs int
	// Rates, if set, is where the rates file (gaterates) is written.
	Rates string
}

// planted returns the planted slowdowns, ascending, with Slowdown among
// them.
func (c CalConfig) planted() []float64 {
	ps := slices.Clone(c.Planted)
	if !slices.Contains(ps, c.Slowdown) {
		ps = append(ps, c.Slowdown)
	}
	slices.Sort(ps)
	return ps
}

// MethodResult is one row of the calibration table.
type MethodResult struct {
	Method         Method             `json:"method"`
	Unit           string             `json:"unit"`
	Rounds         int                `json:"rounds"`
	Trials         int                `json:"trials"`
	MinEffect      float64            `json:"min_effect"`
	FalseAlarms    int                `json:"false_alarms"`             // A/A trials with any metric flagged
	DetectedAll    int                `json:"detected_all"`             // A/A' trials with every slowed metric flagged
	DetectedAny    int                `json:"detected_any"`             // A/A' trials with at least one flagged
	FalseAlarmRate float64            `json:"false_alarm_rate"`         // FalseAlarms / Trials
	DetectionRate  float64            `json:"detection_rate"`           // DetectedAll / Trials
	CV             map[string]float64 `json:"cv"`                       // per-round noise per metric (A/A arms)
	MedianRatio    map[string]float64 `json:"median_ratio"`             // A'/A per metric, median over trials
	RecommendedN   int                `json:"recommended_n"`            // 0 when none within the limit
	RecommendNote  string             `json:"recommend_note"`           // why not, or the simulated power
	RoundSeconds   float64            `json:"round_seconds"`            // wall time of one round of one arm
	GateSeconds    float64            `json:"gate_seconds_est"`         // these benchmarks' rounds of both sides at max(N, RecommendedN), builds excluded
	MeetsTargets   bool               `json:"meets_targets"`            // ≤ 1 % false alarms and ≥ 95 % detection by the whole 95 % interval, ≤ 5 min
	SlowdownIters  map[string]int64   `json:"slowdown_iters,omitempty"` // instructions: the fixed work per verifier
	Planted        []PlantedResult    `json:"planted,omitempty"`        // detection per planted slowdown
	TrialsNote     string             `json:"trials_note,omitempty"`    // how the trials were formed
}

// PlantedResult is the detection of one planted slowdown.
type PlantedResult struct {
	Slowdown    float64 `json:"slowdown"`
	Trials      int     `json:"trials"`
	Detected    int     `json:"detected"`     // every reachable metric flagged
	DetectedAny int     `json:"detected_any"` // at least one flagged
	MedianRatio float64 `json:"median_ratio"` // measured A'/A over metrics and trials (ab: the level is tuned to a measured end-to-end slowdown in the driver, see Note)
	Note        string  `json:"note,omitempty"`
}

// Calibration is the whole table, as written to calibration.json.
type Calibration struct {
	Date       string         `json:"date"`
	GOOS       string         `json:"goos"`
	GOARCH     string         `json:"goarch"`
	NumCPU     int            `json:"num_cpu"`
	Neighbour  bool           `json:"neighbour"`
	Slowdown   float64        `json:"slowdown"`
	Alpha      float64        `json:"alpha"`
	Bench      string         `json:"bench"`
	Samples    int            `json:"samples_per_round"`
	SampleTime string         `json:"sample_time"`
	InstrTime  string         `json:"instr_benchtime"`
	Seconds    float64        `json:"seconds"`
	FDR        bool           `json:"fdr,omitempty"` // trials judged with Benjamini–Hochberg
	Methods    []MethodResult `json:"methods"`
}

// Targets of the issue, with the neighbour running.
const (
	TargetFalseAlarm = 0.01
	TargetDetection  = 0.95
	TargetGate       = 5 * time.Minute
)

// Calibrate builds the working tree once and, for each kind of round the
// methods need, runs trials of an A/A arm and one A/A' arm per planted
// slowdown (a deterministic spin, see docs/gate.md; the ab driver tunes
// its spin to a measured end-to-end slowdown). Each method is judged
// on its own metric as if the gate used it alone.
func Calibrate(ctx context.Context, cfg CalConfig, env Env, stdout, stderr io.Writer) (*Calibration, error) {
	start := time.Now()
	if err := needValgrind(env, cfg.Methods); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "bench-gate-cal-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	p := cfg.Protocol
	p.Tmp = tmp
	p.Scenario = "" // the slowdown reaches the microbenchmarks only
	a, err := env.Build(ctx, cfg.Repo, filepath.Join(tmp, "bin"), "A")
	if err != nil {
		return nil, fmt.Errorf("working tree does not build: %w", err)
	}
	var abBin string
	if slices.Contains(cfg.Methods, AB) {
		if abBin, err = env.BuildAB(ctx, cfg.Repo, cfg.Repo, tmp); err != nil {
			return nil, err
		}
	}
	if cfg.Neighbour {
		stop, err := env.Neighbour(ctx)
		if err != nil {
			return nil, fmt.Errorf("noisy neighbour: %w", err)
		}
		defer func() {
			if err := stop(); err != nil {
				fmt.Fprintln(stderr, "bench gate: warning:", err)
			}
		}()
		fmt.Fprintln(stderr, "calibrate: noisy neighbour running (one thread, busy 0-40 ms, idle 0-40 ms)")
	}
	cal := &Calibration{
		Date: time.Now().UTC().Format(time.RFC3339), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NumCPU: runtime.NumCPU(),
		Neighbour: cfg.Neighbour, Slowdown: cfg.Slowdown, Alpha: cfg.Alpha, Bench: p.BenchRE,
		Samples: p.Samples, SampleTime: p.SampleTime, InstrTime: p.InstrTime, FDR: cfg.FDR,
	}
	planted := cfg.planted()
	a2 := a
	a2.Name = "A2"
	if anyTimed(cfg.Methods) {
		arms := []Side{a, a2}
		for _, f := range planted {
			slow := a
			slow.Name = fmt.Sprintf("Aslow%g", f)
			slow.Env = append(slices.Clone(a.Env), fmt.Sprintf("%s=%g", SlowdownEnv, f))
			arms = append(arms, slow)
		}
		var ms []Method
		for _, m := range cfg.Methods {
			if m.timed() {
				ms = append(ms, m)
			}
		}
		rs, err := runTrials(ctx, cfg, TimeRound, cfg.Rounds, cfg.MinEffect, arms, ms, p, env, stderr)
		if err != nil {
			return nil, err
		}
		cal.Methods = append(cal.Methods, rs...)
	}
	if slices.Contains(cfg.Methods, Instructions) {
		r, err := instrTrials(ctx, cfg, a, planted, p, env, stderr)
		if err != nil {
			return nil, err
		}
		cal.Methods = append(cal.Methods, r)
	}
	if abBin != "" {
		r, err := abTrials(ctx, cfg, abBin, planted, env, stderr)
		if err != nil {
			return nil, err
		}
		cal.Methods = append(cal.Methods, r)
	}
	cal.Seconds = time.Since(start).Seconds()
	fmt.Fprintf(stderr, "calibrate: done in %s\n", time.Since(start).Round(time.Second))
	if err := WriteMarkdown(stdout, cal); err != nil {
		return nil, err
	}
	if cfg.Out != "" {
		if err := saveCalibration(cfg.Out, cal); err != nil {
			return nil, err
		}
	}
	if cfg.Rates != "" {
		if err := gaterates.Write(cfg.Rates, cal.Rates()); err != nil {
			return nil, err
		}
		fmt.Fprintf(stderr, "calibrate: rates written to %s\n", cfg.Rates)
	}
	return cal, nil
}

// gateOpts are the comparison options of a calibration trial.
func (c CalConfig) gateOpts(minEffect float64) gate.Options {
	return gate.Options{Alpha: c.Alpha, MinEffect: minEffect, FDR: c.FDR}
}

// runTrials runs the trials of the time rounds and evaluates each method:
// arms are A, A again and one slowed arm per planted slowdown.
func runTrials(ctx context.Context, cfg CalConfig, kind Kind, rounds int, minEffect float64, arms []Side, ms []Method, p Protocol, env Env, stderr io.Writer) ([]MethodResult, error) {
	opts := cfg.gateOpts(minEffect)
	planted := cfg.planted()
	type acc struct {
		res   MethodResult
		tally *plantedTally
		aa    []gate.Samples // the A/A arms, for the noise
	}
	accs := make([]*acc, len(ms))
	for i, m := range ms {
		accs[i] = &acc{res: MethodResult{Method: m, Unit: m.Unit(), Rounds: rounds, Trials: cfg.Trials, MinEffect: minEffect,
			TrialsNote: "independent: every trial runs its own interleaved rounds, one process per round"}, tally: newTally(planted)}
	}
	var spent time.Duration
	start := time.Now()
	for t := 0; t < cfg.Trials; t++ {
		fmt.Fprintf(stderr, "calibrate: %s trial %d/%d (%s elapsed)\n", kind, t+1, cfg.Trials, time.Since(start).Round(time.Second))
		t0 := time.Now()
		got, err := Interleave(ctx, arms, rounds, kind, p, opts, env, io.Discard)
		if err != nil {
			return nil, err
		}
		spent += time.Since(t0)
		for _, ac := range accs {
			unit := ac.res.Method.Unit()
			base, again := only(got[0].Samples, unit), only(got[1].Samples, unit)
			if len(base) == 0 {
				return nil, fmt.Errorf("%s trial %d: no %s metric in the rounds (does this build report it?)", kind, t+1, unit)
			}
			r1, err := Judge(base, again, opts)
			if err != nil {
				return nil, fmt.Errorf("%s trial %d A/A: %w", ac.res.Method, t+1, err)
			}
			if r1.Failed() {
				ac.res.FalseAlarms++
			}
			for i := range planted {
				r2, err := Judge(base, only(got[2+i].Samples, unit), opts)
				if err != nil {
					return nil, fmt.Errorf("%s trial %d A/A': %w", ac.res.Method, t+1, err)
				}
				ac.tally.add(i, r2, nil)
			}
			ac.aa = append(ac.aa, base, again)
		}
	}
	perRound := spent.Seconds() / float64(max(1, cfg.Trials*rounds*len(arms)))
	out := make([]MethodResult, len(accs))
	for i, ac := range accs {
		r := ac.res
		r.CV = map[string]float64{}
		var cvs []float64
		for k, cv := range gate.NoiseCV(ac.aa...) {
			r.CV[k.Name] = cv
			cvs = append(cvs, cv)
		}
		ac.tally.finish(&r, cfg.Slowdown)
		r.RoundSeconds = perRound
		recommend(&r, cvs, opts, cfg.Slowdown, rounds)
		out[i] = r
	}
	return out, nil
}

// recommend fills in the simulated N, the gate's time and the targets.
func recommend(r *MethodResult, cvs []float64, opts gate.Options, slowdown float64, rounds int) {
	if rec, err := gate.RecommendN(cvs, opts, gate.PowerSpec{Slowdown: slowdown, Trials: 200}); err != nil {
		r.RecommendNote = err.Error()
	} else {
		r.RecommendedN = rec.N
		r.RecommendNote = fmt.Sprintf("simulated power %.0f%%, false alarms %.1f%%", 100*rec.Power, 100*rec.FalseAlarm)
	}
	n := max(rounds, r.RecommendedN)
	r.GateSeconds = 2 * float64(n) * r.RoundSeconds
	r.FalseAlarmRate = float64(r.FalseAlarms) / float64(max(1, r.Trials))
	r.DetectionRate = float64(r.DetectedAll) / float64(max(1, r.Trials))
	r.MeetsTargets = meets(*r)
}

// instructionSlowdown finds, from exact counts, the spin iterations per
// verifier that add f to each benchmark's instructions *relative to the
// wrapped hit*: the calibration's A side runs wrapped with no work, so
// the wrapper's own cost (several % of a 25 ns hit) is on both sides and
// 1 % can be planted. One callgrind run wrapped with no work (Iw0) and one
// with k iterations (Iw1) solve n·(Iw1−Iw0)/k = f·Iw0 (a bare run, I0, is
// kept as a check that the hook is there). A time-calibrated spin would
// inject a different fraction in instructions than in time.
func instructionSlowdown(ctx context.Context, a Side, f float64, p Protocol, env Env) (map[string]int64, error) {
	m, err := instructionSlowdowns(ctx, a, []float64{f}, p, env)
	return m[f], err
}

// instructionSlowdowns is instructionSlowdown for several fractions from
// the same three counting runs.
func instructionSlowdowns(ctx context.Context, a Side, fs []float64, p Protocol, env Env) (map[float64]map[string]int64, error) {
	f := fs[len(fs)-1] // any non-zero fraction switches the hook on
	p.InstrCount = 1
	count := func(s Side, id string) (gate.Samples, error) {
		raw, err := env.Round(ctx, s, InstructionRound, p, id)
		if err != nil {
			return nil, err
		}
		return readRound(raw, id)
	}
	plain, err := count(a, "slowdown-plain")
	if err != nil {
		return nil, err
	}
	verifiers := map[string]gate.Key{}
	for k := range plain {
		if v := verifierOf(k.Name); v != "" {
			verifiers[v] = k
		}
	}
	if len(verifiers) == 0 {
		return nil, fmt.Errorf("no BenchmarkVerify/<verifier>/... benchmark in %q", cmp.Or(p.InstrBench, p.BenchRE))
	}
	const probe = 1000
	with := func(n int64, id string) (gate.Samples, error) {
		it := map[string]int64{}
		for v := range verifiers {
			it[v] = n
		}
		s := a
		s.Env = append(slices.Clone(a.Env), fmt.Sprintf("%s=%g", SlowdownEnv, f), SlowdownItersEnv+"="+formatIters(it))
		return count(s, id)
	}
	w0, err := with(0, "slowdown-w0")
	if err != nil {
		return nil, err
	}
	w1, err := with(probe, "slowdown-w1")
	if err != nil {
		return nil, err
	}
	out := map[float64]map[string]int64{}
	for _, f := range fs {
		out[f] = map[string]int64{}
	}
	for v, k := range verifiers {
		i0, iw0, iw1 := first(plain[k]), first(w0[k]), first(w1[k])
		if !(i0 > 0) {
			return nil, fmt.Errorf("%s: no bare count", k.Name)
		}
		per := (iw1 - iw0) / probe
		if !(per > 0) {
			return nil, fmt.Errorf("%s: %v iterations added no instructions (%.0f → %.0f)", k.Name, probe, iw0, iw1)
		}
		for _, f := range fs {
			out[f][v] = int64(math.Max(0, math.Round(f*iw0/per)))
		}
	}
	return out, nil
}

func readRound(raw []byte, label string) (gate.Samples, error) {
	return gate.ReadBench(strings.NewReader(string(raw)), label)
}

func first(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return xs[0]
}

// verifierOf returns v of a "Verify/v/..." benchmark name.
func verifierOf(name string) string {
	rest, ok := strings.CutPrefix(name, "Verify/")
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, "/")
	return v
}

func formatIters(it map[string]int64) string {
	names := make([]string, 0, len(it))
	for v := range it {
		names = append(names, v)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, v := range names {
		parts[i] = fmt.Sprintf("%s=%d", v, it[v])
	}
	return strings.Join(parts, ",")
}

func saveCalibration(dir string, cal *Calibration) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	js, err := json.MarshalIndent(cal, "", "  ")
	if err != nil {
		return fmt.Errorf("calibration json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "calibration.json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "calibration.md"))
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := WriteMarkdown(f, cal); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}
