package gaterun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/authbench/authbench/internal/gate"
)

// Measured is what the rounds of one side produced.
type Measured struct {
	Side    Side
	Samples gate.Samples // one value per metric and round
	Raw     bytes.Buffer // every round's output as read
}

// ErrRoundIncomplete is wrapped by errors for a round that lacks metrics
// earlier rounds had: its samples failed or its benchmark disappeared.
var ErrRoundIncomplete = errors.New("round incomplete")

// Interleave runs rounds of every side, rotating the order each round (A B,
// B A, … for two sides) so that drift in machine load and any
// first-or-second effect fall on all sides alike. Time rounds are reduced
// to the best of their k samples (gate.BestOf). Every round must yield the
// metrics of the first: a benchmark that fails in one round is an error,
// never a smaller comparison.
func Interleave(ctx context.Context, sides []Side, rounds int, kind Kind, p Protocol, opts gate.Options, env Env, progress io.Writer) ([]*Measured, error) {
	out := make([]*Measured, len(sides))
	for i, s := range sides {
		out[i] = &Measured{Side: s, Samples: gate.Samples{}}
	}
	if kind == InstructionRound {
		return out, countAll(ctx, out, rounds, p, opts, env, progress)
	}
	first := make([]gate.Samples, len(sides))
	for r := 0; r < rounds; r++ {
		t := time.Now()
		for j := range sides {
			i := (j + r) % len(sides)
			m := out[i]
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("interrupted in round %d: %w", r+1, err)
			}
			label := fmt.Sprintf("%s round %d (%s)", m.Side.Name, r+1, kind)
			raw, err := env.Round(ctx, m.Side, kind, p, fmt.Sprintf("r%02d-%s", r+1, m.Side.Name))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", label, err)
			}
			s, err := gate.ReadBench(bytes.NewReader(raw), label)
			if err != nil {
				return nil, fmt.Errorf("%s: every sample failed or none ran: %w", label, err)
			}
			if kind == TimeRound {
				s = gate.BestOf(s, opts)
			}
			if r == 0 {
				first[i] = s
			} else if err := sameMetrics(first[i], s); err != nil {
				return nil, fmt.Errorf("%s: %w", label, err)
			}
			m.Samples.Merge(s)
			m.Raw.Write(raw)
		}
		if r == 0 {
			// The metric count is known now: refuse a round count that
			// could never flag anything before spending minutes on it.
			if need := gate.MinRounds(opts.Alpha, len(out[0].Samples)); rounds < need {
				return nil, fmt.Errorf("%w: %d rounds cannot reach the confidence needed for %d metrics at alpha %g; use --rounds %d or more",
					gate.ErrTooFewSamples, rounds, len(out[0].Samples), opts.Alpha, need)
			}
		}
		fmt.Fprintf(progress, "gate: %s round %d/%d in %s\n", kind, r+1, rounds, time.Since(t).Round(100*time.Millisecond))
	}
	return out, nil
}

// countAll measures every side's instruction rounds in one callgrind run
// each, and checks that every metric has every round.
func countAll(ctx context.Context, out []*Measured, rounds int, p Protocol, opts gate.Options, env Env, progress io.Writer) error {
	p.InstrCount = rounds
	var first gate.Samples
	for _, m := range out {
		t := time.Now()
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted before %s: %w", m.Side.Name, err)
		}
		label := fmt.Sprintf("%s, %d instruction rounds", m.Side.Name, rounds)
		raw, err := env.Round(ctx, m.Side, InstructionRound, p, "i-"+m.Side.Name)
		if err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
		s, err := gate.ReadBench(bytes.NewReader(raw), label)
		if err != nil {
			return fmt.Errorf("%s: every sample failed or none ran: %w", label, err)
		}
		for k, vs := range s {
			if len(vs) != rounds {
				return fmt.Errorf("%s: %w: %s has %d of %d rounds", label, ErrRoundIncomplete, k, len(vs), rounds)
			}
		}
		if first == nil {
			first = s
			if need := gate.MinRounds(opts.Alpha, len(s)); rounds < need {
				return fmt.Errorf("%w: %d rounds cannot reach the confidence needed for %d metrics at alpha %g; use --instr-rounds %d or more",
					gate.ErrTooFewSamples, rounds, len(s), opts.Alpha, need)
			}
		} else if err := sameMetrics(first, s); err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
		m.Samples.Merge(s)
		m.Raw.Write(raw)
		fmt.Fprintf(progress, "gate: %s in %s\n", label, time.Since(t).Round(100*time.Millisecond))
	}
	return nil
}

// sameMetrics reports metrics of want missing from got, or new in got.
func sameMetrics(want, got gate.Samples) error {
	var missing, extra []string
	for k := range want {
		if _, ok := got[k]; !ok {
			missing = append(missing, k.String())
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k.String())
		}
	}
	switch {
	case len(missing) > 0:
		return fmt.Errorf("%w: no sample of %s (failed or disappeared since round 1)", ErrRoundIncomplete, strings.Join(sorted(missing), ", "))
	case len(extra) > 0:
		return fmt.Errorf("%w: %s appeared after round 1", ErrRoundIncomplete, strings.Join(sorted(extra), ", "))
	}
	return nil
}

// ErrMissing is wrapped by the error for a base metric the candidate lacks.
var ErrMissing = errors.New("benchmark missing from the candidate")

// Judge compares base and cand. A metric of the base that the candidate
// lacks is an error (a deleted or renamed benchmark must not hide a
// regression by vanishing); metrics new in the candidate have nothing to
// be compared with and are listed by the report.
func Judge(base, cand gate.Samples, opts gate.Options) (*gate.Report, error) {
	rep, err := gate.Compare(base, cand, opts)
	if err != nil {
		return nil, err
	}
	if len(rep.OnlyBase) > 0 {
		names := make([]string, len(rep.OnlyBase))
		for i, k := range rep.OnlyBase {
			names[i] = k.String()
		}
		return rep, fmt.Errorf("%w: %s (restrict --bench to benchmarks both sides have, or fix the rename)", ErrMissing, strings.Join(names, ", "))
	}
	return rep, nil
}

// SaveRaw writes each side's raw round output to dir/<side>[-suffix].txt.
func SaveRaw(dir, suffix string, ms []*Measured) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	for _, m := range ms {
		name := m.Side.Name
		if suffix != "" {
			name += "-" + suffix
		}
		if err := os.WriteFile(filepath.Join(dir, name+".txt"), m.Raw.Bytes(), 0o644); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	return nil
}
