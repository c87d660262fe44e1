// Package runner executes parsed scenarios. For each variant it starts the
// servers of every verifier and of the no-auth controls (internal/node),
// then measures them in interleaved rounds: each round runs every cell
// once, in an order rotated by one per round, so machine drift falls on all
// alike. Every measured window is bracketed by the servers' counters, their
// own CPU time (getrusage), a CPU profile and, for events, revocation
// probes. A cell's knee search follows its window in each round: round 1
// ramps from above the window's rate and bisects to ±5 %, later rounds
// verify the previous bracket; the variant's no-auth control searches give
// the generator's ceiling (knee.go). Scenarios with load.parallel run a
// round's turns at once. Each variant's wall time is recorded and printed
// as a table at the end (timing.go). Run returns the results
// (results.File) and leaves raw profiles and vegeta results in the output
// directory; folded stacks, flame graphs and CPU shares are the next
// stage's work (internal/profiles).
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/impl/ticket"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/scenarios"
)

// Options configure Run.
type Options struct {
	// OutDir is the run directory; results.RunDirs() are created below it.
	OutDir string
	// Quick shortens every scenario (see (*scenarios.Scenario).Quick).
	Quick bool
	// Progress receives one line per turn with elapsed and remaining time.
	Progress io.Writer
	// Shard i of n (1-based) runs every n-th variant; 0/0 runs all. A
	// variant is never split: its rounds interleave all of its verifiers.
	ShardIndex, ShardCount int
	// BenchBinary is the bench executable started as `bench serve` for
	// each server process; empty runs the servers in this process (tests:
	// server CPU then comes from profiles, since getrusage would include
	// the load generator).
	BenchBinary string
	// LiveTokens is how many tokens get their own secret and hash and
	// take the load (default DefaultLiveTokens); the rest of a larger
	// token set are filler entries sharing one hash, so the file has its
	// real size without hashing 10,000 secrets per run.
	LiveTokens int
	// Seed fixes the request mix sequence.
	Seed int64
	// Logger gets warnings (never secrets); nil discards.
	Logger *slog.Logger
	// OnSecret, if set, is told every plaintext secret the run creates
	// (tokens and event rotations; for ticket scenarios every ticket sent
	// and a piece of each private key). Only the secret-hygiene audit uses it,
	// to scan everything the run wrote for leaks.
	OnSecret func(secret string)
}

// DefaultLiveTokens is how many tokens carry real secrets and take load.
// PBS deployments authenticate a handful of automation tokens; a larger
// active set would mostly measure cache warm-up in short windows.
const DefaultLiveTokens = 16

// Run executes the scenarios and returns what finished. If ctx is
// cancelled the result holds every finished run with Interrupted set, and
// the error is nil: partial results are results. No server process
// outlives Run.
func Run(ctx context.Context, scs []*scenarios.Scenario, opts Options) (*results.File, error) {
	if opts.LiveTokens <= 0 {
		opts.LiveTokens = DefaultLiveTokens
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	for _, d := range results.RunDirs() {
		if err := os.MkdirAll(filepath.Join(opts.OutDir, d), 0o755); err != nil {
			return nil, fmt.Errorf("output directory: %w", err)
		}
	}
	variants := plan(scs, opts)
	r := &runner{opts: opts, out: &results.File{ScenarioInfo: scenarioInfo(scs)}, start: time.Now()}
	for _, v := range variants {
		r.planned += v.Scenario.EstimatedRuntime()
		if v.Scenario.Cluster != nil {
			r.turns++ // one experiment, its own progress lines in its log
			continue
		}
		r.turns += len(cellNames(v.Scenario)) * max(1, v.Scenario.Load.Rounds)
	}
	for _, v := range variants {
		if ctx.Err() != nil {
			r.out.Interrupted = true
			break
		}
		run := r.variant
		if v.Scenario.Cluster != nil {
			run = func(ctx context.Context, v scenarios.Variant) error { return r.cluster(ctx, v.Scenario) }
		}
		began := time.Now()
		err := run(ctx, v)
		r.recordTime(v.Scenario, began)
		if err != nil {
			if ctx.Err() != nil {
				r.out.Interrupted = true
				break
			}
			return r.out, fmt.Errorf("%s: %w", v.Name, err)
		}
	}
	// A cancellation that landed inside the last variant, in a step that
	// ends without an error (a cluster trial recorded as failed), still
	// makes the run interrupted: its results are partial.
	if ctx.Err() != nil {
		r.out.Interrupted = true
	}
	if r.out.Interrupted {
		r.out.Notes = append(r.out.Notes, "run interrupted: only finished runs are reported")
	}
	WriteTimes(opts.Progress, r.out.ScenarioTimes, time.Since(r.start))
	return r.out, nil
}

// scenarioInfo is what each loaded file says about itself, so the report
// (also one regenerated from results.json) heads a scenario with its
// question.
func scenarioInfo(scs []*scenarios.Scenario) []results.ScenarioInfo {
	var out []results.ScenarioInfo
	for _, s := range scs {
		out = append(out, results.ScenarioInfo{Name: s.Name, Question: s.Question, Description: strings.TrimSpace(s.Description)})
	}
	return out
}

// plan expands the scenarios (quick if asked) into variants and keeps
// this shard's share.
func plan(scs []*scenarios.Scenario, opts Options) []scenarios.Variant {
	var all []scenarios.Variant
	for _, s := range scs {
		if opts.Quick {
			s = s.Quick()
		}
		all = append(all, s.Expand()...)
	}
	if opts.ShardCount <= 0 {
		return all
	}
	var mine []scenarios.Variant
	for i, v := range all {
		if i%opts.ShardCount == opts.ShardIndex-1 {
			mine = append(mine, v)
		}
	}
	return mine
}

// cellNames are the result names measured in each round of a variant:
// the controls first, then the scenario's verifiers.
func cellNames(sc *scenarios.Scenario) []string {
	var names []string
	if sc.Control {
		names = append(names, results.ControlVerifier, results.ControlCopyVerifier)
	}
	return append(names, sc.Verifiers...)
}

// isControl reports whether name is one of the no-auth controls.
func isControl(name string) bool {
	return name == results.ControlVerifier || name == results.ControlCopyVerifier
}

// rotate returns cells in round r's order (1-based): shifted by r-1.
func rotate[T any](cells []T, round int) []T {
	if len(cells) == 0 {
		return nil
	}
	k := (round - 1) % len(cells)
	return append(append([]T(nil), cells[k:]...), cells[:k]...)
}

type runner struct {
	opts    Options
	out     *results.File
	start   time.Time
	planned time.Duration
	done    time.Duration
	turns   int
	turn    int
	shadows map[string]*tokenSet
	mu      sync.Mutex // guards out's Runs and Revocations during parallel turns
}

// variant starts every cell's servers (all at once), measures the rounds
// and stops the servers again (also when ctx ends). It records the
// variant's wall time and, once every round ran, its generator ceiling.
func (r *runner) variant(ctx context.Context, v scenarios.Variant) error {
	sc := v.Scenario
	from := len(r.out.Runs)
	ts, err := r.tokens(ctx, sc)
	if err != nil {
		return err
	}
	cells, err := r.startCells(ctx, sc, ts)
	defer func() {
		for _, c := range cells {
			if err := c.close(); err != nil {
				r.opts.Logger.Warn("server exit", "verifier", c.name, "err", err)
			}
		}
	}()
	if err != nil {
		return err
	}
	rounds := max(1, sc.Load.Rounds)
	perTurn := sc.EstimatedRuntime() / time.Duration(len(cells)*rounds)
	for round := 1; round <= rounds; round++ {
		order := rotate(cells, round)
		if sc.Load.Parallel {
			if err := r.parallelRound(ctx, sc, order, ts, round, rounds, perTurn); err != nil {
				return err
			}
			continue
		}
		for _, c := range order {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.progress(sc, c, round, rounds)
			if err := r.measureTurn(ctx, sc, c, ts, round); err != nil {
				return fmt.Errorf("%s round %d: %w", c.name, round, err)
			}
			r.done += perTurn
		}
	}
	r.applyCeiling(sc.Name, from)
	return nil
}

// startCells starts every cell of the variant at once: server start-up
// is mostly waiting (exec, listen, readiness), which need not add up cell
// by cell. On an error the cells started so far are returned for closing.
func (r *runner) startCells(ctx context.Context, sc *scenarios.Scenario, ts *tokenSet) ([]*cell, error) {
	names := cellNames(sc)
	cells := make([]*cell, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := r.newCell(ctx, sc, ts, name)
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", name, err)
				return
			}
			cells[i] = c
		}()
	}
	wg.Wait()
	var started []*cell
	for _, c := range cells {
		if c != nil {
			started = append(started, c)
		}
	}
	return started, errors.Join(errs...)
}

// parallelRound runs one round's turns of every cell at once
// (scenarios.LoadConfig.Parallel).
func (r *runner) parallelRound(ctx context.Context, sc *scenarios.Scenario, cells []*cell, ts *tokenSet, round, rounds int, perTurn time.Duration) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	for _, c := range cells {
		r.progress(sc, c, round, rounds)
	}
	errs := make([]error, len(cells))
	var wg sync.WaitGroup
	for i, c := range cells {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.measureTurn(ctx, sc, c, ts, round); err != nil {
				errs[i] = fmt.Errorf("%s round %d: %w", c.name, round, err)
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r.done += perTurn * time.Duration(len(cells))
	return errors.Join(errs...)
}

func (r *runner) progress(sc *scenarios.Scenario, c *cell, round, rounds int) {
	r.turn++
	fmt.Fprintf(r.opts.Progress, "[%d/%d] %s · %s · round %d/%d · %s\n", r.turn, r.turns, sc.Name, c.name, round, rounds, r.eta())
}

// record adds a window's runs and revocations; parallel turns call it
// concurrently.
func (r *runner) record(runs []results.Run, revs []results.Revocation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.out.Runs = append(r.out.Runs, runs...)
	r.out.Revocations = append(r.out.Revocations, revs...)
}

// measureTurn is one cell's turn in a round: its measured windows, then
// its knee search if the scenario asks for one.
func (r *runner) measureTurn(ctx context.Context, sc *scenarios.Scenario, c *cell, ts *tokenSet, round int) error {
	if sc.Load.Shape != scenarios.ShapeKnee {
		stages := sc.Load.Stages
		if sc.Load.Shape == scenarios.ShapeConstant {
			stages = []scenarios.Stage{{Rate: c.rate, Duration: sc.Load.Duration}}
		}
		for rep := 1; rep <= sc.Load.Repeats; rep++ {
			c.windows++
			var evs []scenarios.Event
			if c.windows == 1 && !isControl(c.name) {
				evs = sc.Events // events mutate state: once, on a fresh server
			}
			w := &window{r: r, sc: sc, c: c, ts: ts, round: round, repeat: c.windows, stages: stages, events: evs}
			runs, revs, err := w.run(ctx)
			if err != nil {
				return err
			}
			if rep == 1 && len(w.attacks) > 0 && sc.Load.Shape == scenarios.ShapeConstant {
				c.lastWindow = w.attacks[0]
			}
			r.record(runs, revs)
		}
	}
	if sc.Load.Knee != nil {
		return r.knee(ctx, sc, c, round)
	}
	return nil
}

func (r *runner) eta() string {
	el := time.Since(r.start)
	left := r.planned - r.done
	if r.done > 0 {
		// Scale the plan by how the finished part actually went (setup,
		// hashing and process starts are not in the plan).
		left = time.Duration(float64(left) * float64(el) / float64(r.done))
	}
	return fmt.Sprintf("elapsed %s, ~%s left", el.Round(time.Second), left.Round(time.Second))
}

// base is the part of a Run every window of a cell shares.
func (c *cell) base(sc *scenarios.Scenario, round int) results.Run {
	return results.Run{
		Scenario: sc.Name, Verifier: c.name, Tokens: sc.Tokens, Concurrency: sc.Load.Concurrency,
		ServerProcs: sc.Server.GOMAXPROCS, Processes: max(1, sc.Server.Processes), TLS: sc.Server.TLS,
		Round: round, Target: sc.Target,
	}
}

// KnownNames are the names scenario files may measure: the registered
// token verifiers, then every ticket strategy as "ticket/<name>".
func KnownNames() []string {
	names := impl.Names()
	for _, s := range ticket.Strategies() {
		names = append(names, results.TicketVerifier(s.Name))
	}
	return names
}
