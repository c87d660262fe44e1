package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/authbench/authbench/internal/gate"
	"github.com/authbench/authbench/internal/gaterun"
)

// runHistory is `bench history DIR...`: the change points of a series of
// saved runs (one per commit), printed as the commit where each step
// begins. Exit 0 with or without steps, 2 on bad input.
func runHistory(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("history", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o gate.ChangeOptions
	fs.IntVar(&o.MinSegment, "min-segment", 3, "fewest runs on either side of a step")
	fs.Float64Var(&o.MinEffect, "min-effect", 0.05, "smallest step that counts, as a fraction")
	fs.Float64Var(&o.Alpha, "alpha", 0.05, "false-discovery rate over the metrics (Benjamini–Hochberg)")
	if err := fs.Parse(args); err != nil {
		return exitCode(2, err)
	}
	if o.MinSegment < 2 || !(o.MinEffect > 0 && o.MinEffect < 1) || !(o.Alpha > 0 && o.Alpha < 1) {
		return exitCode(2, fmt.Errorf("--min-segment %d, --min-effect %g, --alpha %g: want ≥ 2 and fractions in (0, 1)", o.MinSegment, o.MinEffect, o.Alpha))
	}
	runs, err := gaterun.ReadRuns(fs.Args())
	if err != nil {
		return exitCode(2, err)
	}
	if _, err := gaterun.History(runs, o, stdout); err != nil {
		return exitCode(2, err)
	}
	return nil
}
