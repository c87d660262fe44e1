package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/results"
)

// runCompare puts two runs' ratios side by side with their intervals and
// says where they disagree: exit 0 when every shared ratio agrees, 1 when
// some disagree, 2 on error (unreadable directory, a file from before
// interleaved rounds).
func runCompare(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("compare", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprint(fl.Output(), `usage: bench compare [--tolerance F] RUN_A RUN_B

Compare two runs (report directories or results.json files): every ratio
the report states (CPU per request, throughput and p99 against the no-auth
control and against uncached, and the A/A copy of the control) with its
interval over rounds. Two runs disagree on a ratio when both intervals
exist and do not overlap, or when the estimates differ by more than the
tolerance. Exit 0: all agree; 1: some disagree; 2: error.

`)
		fl.PrintDefaults()
	}
	tol := fl.Float64("tolerance", analysis.DefaultTolerance, "largest relative difference of two estimates that still agrees (0.10 = ±10 %)")
	if err := fl.Parse(args); err != nil {
		return exitCode(2, err)
	}
	if fl.NArg() != 2 {
		fl.Usage()
		return exitCode(2, errors.New("need exactly two runs"))
	}
	if *tol <= 0 || *tol >= 1 {
		return exitCode(2, fmt.Errorf("--tolerance %v: want a fraction in (0, 1)", *tol))
	}
	var files [2]*results.File
	for i, p := range fl.Args() {
		f, err := results.Read(p)
		if err != nil {
			return exitCode(2, err)
		}
		files[i] = f
	}
	c, err := analysis.Compare(files[0], files[1], *tol)
	if err != nil {
		return exitCode(2, err)
	}
	if err := analysis.WriteComparison(stdout, c); err != nil {
		return exitCode(2, err)
	}
	if len(c.Rows) == 0 {
		return exitCode(2, errors.New("the runs share no ratio to compare"))
	}
	if !c.Agree() {
		return exitCode(1, errors.New(""))
	}
	return nil
}
