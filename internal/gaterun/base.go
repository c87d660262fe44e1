package gaterun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/authbench/authbench/internal/gate"
)

// ErrRegression is wrapped by the error of a comparison that found a
// regression (exit 1); every other error means no verdict (exit 2).
var ErrRegression = errors.New("performance regression")

// Config is one `bench gate --base` run.
type Config struct {
	Repo        string   // candidate checkout (its working tree), absolute
	Base        string   // git ref of the base
	Methods     []Method // what to measure
	Rounds      int      // interleaved time rounds per side
	InstrRounds int      // interleaved instruction rounds per side
	Protocol    Protocol // Tmp is set by Base
	Alpha       float64  // family-wise, split over the comparisons
	MinEffect   float64  // time methods
	InstrEffect float64  // instructions
	Out         string   // keep raw round output here, if set
	FDR         bool     // Benjamini–Hochberg over each family's metrics instead of Holm
	AB          ABProtocol
	ABProcs     int    // in-process A/B driver processes (method ab)
	Summary     string // append the verdict block (Markdown) here, e.g. $GITHUB_STEP_SUMMARY
}

// comparison is one family of metrics compared together.
type comparison struct {
	kind   Kind
	rounds int
	opts   gate.Options
}

func (c Config) comparisons() []comparison {
	var cs []comparison
	if anyTimed(c.Methods) {
		cs = append(cs, comparison{TimeRound, c.Rounds, gate.Options{MinEffect: c.MinEffect}})
	}
	for _, m := range c.Methods {
		if m == Instructions {
			cs = append(cs, comparison{InstructionRound, c.InstrRounds, gate.Options{MinEffect: c.InstrEffect}})
		}
	}
	if slices.Contains(c.Methods, AB) {
		cs = append(cs, comparison{abKind, c.ABProcs, gate.Options{MinEffect: c.AB.MinEffect}})
	}
	// Bonferroni over the comparisons, Holm (or BH) within each.
	for i := range cs {
		cs[i].opts.Alpha = c.Alpha / float64(len(cs))
		cs[i].opts.FDR = c.FDR
	}
	return cs
}

// Base builds the base ref and the working tree once each, measures them
// in interleaved rounds and compares every metric. It returns nil on a
// pass, an error wrapping ErrRegression on a regression, and any other
// error when no verdict is possible.
func Base(ctx context.Context, cfg Config, env Env, stdout, stderr io.Writer) error {
	title := fmt.Sprintf("base `%s` vs the working tree, methods %s, alpha %g", cfg.Base, joinMethods(cfg.Methods), cfg.Alpha)
	return WithSummary(cfg.Summary, title, cfg.Repo, stdout, func(w io.Writer) error { return base(ctx, cfg, env, w, stderr) })
}

func base(ctx context.Context, cfg Config, env Env, stdout, stderr io.Writer) error {
	start := time.Now()
	commit, err := env.Resolve(ctx, cfg.Repo, cfg.Base)
	if err != nil {
		return err
	}
	if err := needValgrind(env, cfg.Methods); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "bench-gate-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	p := cfg.Protocol
	p.Tmp = tmp
	wt := filepath.Join(tmp, "base")
	cleanup, err := env.Worktree(ctx, cfg.Repo, commit, wt)
	if err != nil {
		return err
	}
	defer func() {
		if err := cleanup(); err != nil {
			fmt.Fprintln(stderr, "bench gate: warning:", err)
		}
	}()
	fmt.Fprintf(stderr, "gate: base %s (%s) vs working tree %s, measuring %s\n", cfg.Base, shortSHA(commit), cfg.Repo, joinMethods(cfg.Methods))
	baseSide, err := env.Build(ctx, wt, filepath.Join(tmp, "bin-base"), "base")
	if err != nil {
		return fmt.Errorf("base %s does not build: %w", cfg.Base, err)
	}
	candSide, err := env.Build(ctx, cfg.Repo, filepath.Join(tmp, "bin-cand"), "cand")
	if err != nil {
		return fmt.Errorf("working tree does not build: %w", err)
	}
	fmt.Fprintf(stderr, "gate: built both sides in %s\n", time.Since(start).Round(time.Second))
	var regressed []string
	for _, c := range cfg.comparisons() {
		if c.kind == abKind {
			names, err := baseAB(ctx, cfg, c, wt, tmp, env, stdout)
			if err != nil {
				return err
			}
			regressed = append(regressed, names...)
			continue
		}
		cp := p
		if c.kind == InstructionRound {
			cp.Scenario = "" // the HTTP probe is timed, never counted
		}
		got, err := Interleave(ctx, []Side{baseSide, candSide}, c.rounds, c.kind, cp, c.opts, env, stderr)
		if err != nil {
			return err
		}
		if cfg.Out != "" {
			if err := SaveRaw(cfg.Out, c.kind.String(), got); err != nil {
				return err
			}
		}
		b, cd := got[0].Samples, got[1].Samples
		if c.kind == TimeRound {
			b, cd = keepFor(b, cfg.Methods), keepFor(cd, cfg.Methods)
		}
		fmt.Fprintf(stdout, "%s rounds: %d per side\n", c.kind, c.rounds)
		rep, err := Judge(b, cd, c.opts)
		if rep != nil {
			if werr := rep.WriteTable(stdout); werr != nil {
				return werr
			}
		}
		if err != nil {
			return err
		}
		for _, m := range rep.Regressions() {
			regressed = append(regressed, m.Key.String())
		}
	}
	fmt.Fprintf(stderr, "gate: measured in %s\n", time.Since(start).Round(time.Second))
	if len(regressed) > 0 {
		return fmt.Errorf("%w in %d metric(s): %s", ErrRegression, len(regressed), strings.Join(regressed, ", "))
	}
	fmt.Fprintln(stdout, "gate: pass")
	return nil
}

// abKind marks the in-process A/B comparison among the round kinds.
const abKind Kind = -1

// baseAB builds the in-process driver (base as A, working tree as B),
// runs its processes and compares the sides paired by process.
func baseAB(ctx context.Context, cfg Config, c comparison, wt, tmp string, env Env, stdout io.Writer) ([]string, error) {
	bin, err := env.BuildAB(ctx, wt, cfg.Repo, tmp)
	if err != nil {
		return nil, err
	}
	arms, notes, err := abProcesses(ctx, bin, cfg.AB, c.rounds, env, "in-process A/B")
	if err != nil {
		return nil, err
	}
	var missing []string
	for n := range notes {
		if m, ok := strings.CutPrefix(n, "missing "); ok {
			missing = append(missing, m) // e.g. a peer registered outside impl
		}
	}
	for _, m := range sorted(missing) {
		fmt.Fprintf(stdout, "in-process A/B: not compared, %s\n", m)
	}
	fmt.Fprintf(stdout, "in-process A/B: %d processes, %d interleaved rounds per verifier each, paired by process\n", c.rounds, cfg.AB.Rounds)
	rep, err := gate.ComparePaired(arms["A"], arms["B"], c.opts)
	if err != nil {
		return nil, err
	}
	if err := rep.WriteTable(stdout); err != nil {
		return nil, err
	}
	var names []string
	for _, m := range rep.Regressions() {
		names = append(names, m.Key.String())
	}
	return names, nil
}

// needValgrind fails early, before any build, when instructions are asked
// for and valgrind is missing.
func needValgrind(env Env, ms []Method) error {
	for _, m := range ms {
		if m == Instructions {
			if _, err := env.LookPath("valgrind"); err != nil {
				return ErrNoValgrind
			}
		}
	}
	return nil
}

func joinMethods(ms []Method) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}
