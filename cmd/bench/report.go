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
	"time"

	"github.com/authbench/authbench/internal/report"
	"github.com/authbench/authbench/internal/results"
)

// runReport regenerates a report from saved results; with several
// directories (shards of one suite) it merges them into a new one.
func runReport(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("report", flag.ContinueOnError)
	fl.SetOutput(stderr)
	out := fl.String("out", "", "merged report directory (default reports/merged-<time>)")
	if err := fl.Parse(args); err != nil {
		return exitCode(2, err)
	}
	dirs := fl.Args()
	if len(dirs) == 0 {
		return exitCode(2, errors.New("usage: bench report DIR..."))
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
		for _, sub := range []string{"profiles", "flamegraphs", "results", "logs"} {
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
