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
	"sync"
	"time"

	"github.com/authbench/authbench/internal/profiles"
	"github.com/authbench/authbench/internal/report"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/internal/runner"
	"github.com/authbench/authbench/internal/shards"
	"github.com/authbench/authbench/internal/suite"
	"github.com/authbench/authbench/scenarios"
)

func runRun(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "short phases (smoke runs, CI)")
	progress := fs.Bool("progress", true, "print progress lines to stderr")
	outRoot := fs.String("out", "reports", "directory that receives reports/<run-id>/")
	runID := fs.String("id", "", "run id (default: UTC timestamp)")
	shard := fs.String("shard", "", "run shard i/n of the suite's jobs (CI matrix)")
	inProcess := fs.Bool("in-process", false, "run servers inside this process (no GOMAXPROCS split; for tests)")
	verifiers := fs.String("verifiers", "", "comma-separated verifiers to run (default: each scenario's list)")
	auditSecrets := fs.String("audit-secrets", "", "append every secret the run creates to this file (mode 0600), for leak audits")
	flameDir := fs.String("flamegraphs", "flamegraphs", "also copy the run's flame graphs to DIR/<run-id>/ (empty: don't)")
	liveTokens := fs.Int("live-tokens", runner.DefaultLiveTokens, "tokens with real secrets that take the load; the rest of a larger set are filler")
	microbench := fs.String("microbench", "", "verifier microbenchmarks (go test -bench 'Verify/' ./impl/ output) to save with the run as "+results.MicrobenchFile+" for the report's hit-path column")
	if err := fs.Parse(args); err != nil {
		return exitCode(2, err)
	}
	paths := fs.Args()
	if len(paths) == 0 {
		return exitCode(2, errors.New("usage: bench run [flags] SCENARIO.yaml..."))
	}
	known := runner.KnownNames()
	scs, err := scenarios.LoadAll(paths, known)
	if err != nil {
		return exitCode(2, err)
	}
	if *verifiers != "" {
		if err := suite.SelectVerifiers(scs, strings.Split(*verifiers, ","), known); err != nil {
			return exitCode(2, err)
		}
	}
	si, sn, err := shards.Parse(*shard)
	if err != nil {
		return exitCode(2, err)
	}
	// Checked before anything runs: a bad file must not cost a suite.
	var micro []byte
	if *microbench != "" {
		if micro, err = suite.ReadMicrobench(*microbench); err != nil {
			return exitCode(2, err)
		}
	}
	id := *runID
	if id == "" {
		id = time.Now().UTC().Format("20060102T150405Z")
		if sn > 0 {
			id += fmt.Sprintf("-shard%dof%d", si, sn)
		}
	}
	dir := filepath.Join(*outRoot, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	if err := suite.CheckWritable(dir); err != nil {
		return err
	}
	if micro != nil {
		if err := suite.SaveMicrobench(dir, micro); err != nil {
			return err
		}
	}
	opts := runner.Options{OutDir: dir, Quick: *quick, ShardIndex: si, ShardCount: sn, LiveTokens: *liveTokens}
	if *auditSecrets != "" {
		af, err := os.OpenFile(*auditSecrets, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("audit file: %w", err)
		}
		defer af.Close()
		var mu sync.Mutex
		opts.OnSecret = func(s string) { mu.Lock(); fmt.Fprintln(af, s); mu.Unlock() }
	}
	if *progress {
		opts.Progress = stderr
	}
	if !*inProcess {
		if opts.BenchBinary, err = os.Executable(); err != nil {
			return fmt.Errorf("locate bench binary: %w", err)
		}
	}
	start := time.Now()
	// Measurement, then profile post-processing, then the report: each
	// stage reads what the previous one saved.
	res, runErr := runner.Run(ctx, scs, opts)
	if res == nil {
		return runErr
	}
	if err := profiles.Process(dir, res); err != nil {
		res.Notes = append(res.Notes, "profile post-processing failed: "+err.Error())
		if runErr == nil {
			runErr = err
		}
	}
	res.RunID = id
	if micro != nil {
		res.Microbench = results.MicrobenchFile
	}
	suite.Describe(res, paths, scs, *quick, *inProcess)
	if runErr != nil {
		res.Notes = append(res.Notes, "run stopped by an error: "+runErr.Error())
	}
	if err := suite.WriteOutputs(dir, res); err != nil {
		return err
	}
	if *flameDir != "" {
		if err := suite.CopyTree(filepath.Join(dir, results.DirFlamegraphs), filepath.Join(*flameDir, id)); err != nil {
			return fmt.Errorf("copy flame graphs: %w", err)
		}
	}
	fmt.Fprintf(stderr, "finished in %s\n", time.Since(start).Round(time.Second))
	fmt.Fprintln(stdout, filepath.Join(dir, report.MarkdownFile))
	switch {
	case runErr != nil:
		return runErr
	case res.Interrupted:
		return exitCode(130, errors.New("interrupted: report holds the finished runs"))
	}
	if failed := suite.FailedRevocations(res); failed > 0 {
		return exitCode(1, fmt.Errorf("%d revocation checks exceeded their declared bound (see the security table)", failed))
	}
	return nil
}
