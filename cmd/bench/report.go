package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/authbench/authbench/internal/browser"
	"github.com/authbench/authbench/internal/report"
	"github.com/authbench/authbench/internal/shards"
	"github.com/authbench/authbench/internal/suite"
)

// runReport regenerates a report from saved results; with several
// directories (shards of one suite) it merges them into a new one. With
// --attack it merges the vegeta results of `bench attack --shard` load
// generators instead.
func runReport(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("report", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprint(fl.Output(), `usage: bench report [--out DIR] RUNDIR...
       bench report --attack [--out DIR] DIR|FILE.shard.json...
       bench report --check DIR

Without --attack: regenerate the report of one run directory in place, or
merge the run directories of a sharded suite (bench run --shard) into --out.

With --attack: merge the shards of one distributed load (bench attack
--shard i/n on n machines). Each argument is a directory holding shard
sidecars (*.shard.json, written beside each --results file) or a sidecar.
The shards' raw vegeta results are merged into DIR/merged.bin (vegeta
report reads it), and DIR/attack.md and DIR/attack.json give the offered
rate (the shards' sum), the achieved rate over the merged window and the
latency distribution of all requests together (computed from the merged
results, not by averaging percentiles). Duplicate or mismatched shards are
an error; missing ones are reported.

With --check: open DIR/index.html in headless Chromium and check it (no
console errors, every image decoded, every local link resolving, nothing
loaded from the network, the headline table and the trade-off chart in the
first screen at 1366x768, a linked flame graph zooming on a click and
highlighting on a search, the headline not scrolling sideways), and every
local link of report.md and its per-scenario files; the full-page
screenshot is saved as
DIR/index.screenshot.png. Exit 0 when every check passed, 1 when some
failed (listed), 2 when it could not check (no browser, no index.html).

`)
		fl.PrintDefaults()
	}
	out := fl.String("out", "", "merged report directory (default reports/merged-<time>, or reports/attack-<time> with --attack)")
	attack := fl.Bool("attack", false, "merge the vegeta results of bench attack --shard load generators")
	check := fl.Bool("check", false, "check DIR/index.html in headless Chromium and save its screenshot")
	if err := fl.Parse(args); err != nil {
		return exitCode(2, err)
	}
	dirs := fl.Args()
	if len(dirs) == 0 {
		fl.Usage()
		return exitCode(2, errors.New("no directories given"))
	}
	if *check {
		if *attack || *out != "" || len(dirs) != 1 {
			return exitCode(2, errors.New("--check takes one report directory and no other option"))
		}
		return checkReport(ctx, dirs[0], stdout)
	}
	if *attack {
		dest := *out
		if dest == "" {
			dest = filepath.Join("reports", "attack-"+time.Now().UTC().Format("20060102T150405Z"))
		}
		return mergeAttack(dirs, dest, stdout)
	}
	if len(dirs) == 1 && *out == "" {
		files, err := suite.ReadAll(dirs)
		if err != nil {
			return exitCode(2, err)
		}
		if err := suite.WriteOutputs(dirs[0], files[0]); err != nil {
			return err
		}
		fmt.Fprintln(stdout, filepath.Join(dirs[0], report.MarkdownFile))
		return nil
	}
	dest := *out
	if dest == "" {
		dest = filepath.Join("reports", "merged-"+time.Now().UTC().Format("20060102T150405Z"))
	}
	_, err := suite.MergeRuns(dirs, dest)
	if _, bad := errors.AsType[*suite.ReadError](err); bad {
		return exitCode(2, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, filepath.Join(dest, report.MarkdownFile))
	return nil
}

// mergeAttack merges the shards named by args into dest and prints the
// summary and its path; bad shards are exit 2.
func mergeAttack(args []string, dest string, stdout io.Writer) error {
	set, err := shards.Load(args)
	if err != nil {
		return exitCode(2, err)
	}
	sum, err := shards.Merge(set, dest)
	if _, bad := errors.AsType[*shards.ResultsError](err); bad {
		return exitCode(2, err)
	}
	if err != nil {
		return err
	}
	sum.WriteMarkdown(stdout)
	fmt.Fprintln(stdout, filepath.Join(dest, shards.SummaryMarkdown))
	return nil
}

// checkReport runs the browser checks on a report directory: exit 1 lists
// the failed checks, exit 2 says why it could not check.
func checkReport(ctx context.Context, dir string, stdout io.Writer) error {
	got, err := browser.CheckReport(ctx, dir)
	if err != nil {
		return exitCode(2, fmt.Errorf("report --check: %w", err))
	}
	if got.Page != nil && got.Page.Screenshot != "" {
		fmt.Fprintf(stdout, "screenshot: %s\n", got.Page.Screenshot)
	}
	if got.Flame != "" {
		fmt.Fprintf(stdout, "flame graph used: %s\n", got.Flame)
	}
	// The browser sees index.html only; report.md and its per-scenario
	// files are what most people read, so their links are checked too.
	dead, err := report.CheckLinks(dir)
	if err != nil {
		return exitCode(2, fmt.Errorf("report --check: %w", err))
	}
	probs := got.Problems()
	for _, d := range dead {
		probs = append(probs, "dead link: "+d)
	}
	if len(probs) > 0 {
		return exitCode(1, fmt.Errorf("report --check %s: %d problems:\n%s", dir, len(probs), strings.Join(probs, "\n")))
	}
	fmt.Fprintf(stdout, "%s: all checks passed\n", filepath.Join(dir, report.HTMLFile))
	return nil
}
