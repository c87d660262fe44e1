package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/authbench/authbench/internal/shards"
	"github.com/authbench/authbench/internal/browser"
	"github.com/authbench/authbench/internal/report"
	"github.com/authbench/authbench/internal/results"
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
highlighting on a search); the full-page screenshot is saved as
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
	var files []*results.File
	for _, d := range dirs {
		f, err := results.Read(d)
		if err != nil {
			return exitCode(2, err)
		}
		files = append(files, f)
	}
	if len(dirs) == 1 && *out == "" {
		if err := writeOutputs(dirs[0], files[0]); err != nil {
			return err
		}
		fmt.Fprintln(stdout, filepath.Join(dirs[0], report.MarkdownFile))
		return nil
	}
	dest := *out
	if dest == "" {
		dest = filepath.Join("reports", "merged-"+time.Now().UTC().Format("20060102T150405Z"))
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	// Shards write disjoint file names, so their artefacts are copied side
	// by side and the runs' relative paths stay valid.
	for _, d := range dirs {
		for _, sub := range results.RunDirs() {
			if err := copyTree(filepath.Join(d, sub), filepath.Join(dest, sub)); err != nil {
				return err
			}
		}
	}
	merged, err := results.Merge(files)
	if err != nil {
		return err
	}
	merged.RunID = filepath.Base(dest)
	// Shards of one suite ran the same microbenchmarks: keep the first
	// shard's copy so the merged headline keeps its hit-path column.
	for i, f := range files {
		if f.Microbench == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dirs[i], f.Microbench))
		if err != nil {
			return fmt.Errorf("shard %s: microbenchmarks: %w", dirs[i], err)
		}
		if err := os.WriteFile(filepath.Join(dest, results.MicrobenchFile), data, 0o644); err != nil {
			return err
		}
		merged.Microbench = results.MicrobenchFile
		break
	}
	if err := writeOutputs(dest, merged); err != nil {
		return err
	}
	fmt.Fprintln(stdout, filepath.Join(dest, report.MarkdownFile))
	return nil
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == src {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
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
	if probs := got.Problems(); len(probs) > 0 {
		return exitCode(1, fmt.Errorf("report --check %s: %d problems:\n%s", dir, len(probs), strings.Join(probs, "\n")))
	}
	fmt.Fprintf(stdout, "%s: all checks passed\n", filepath.Join(dir, report.HTMLFile))
	return nil
}
