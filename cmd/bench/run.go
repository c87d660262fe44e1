package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/authbench/authbench/internal/outfile"
	"github.com/authbench/authbench/internal/profiles"
	"github.com/authbench/authbench/internal/report"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/internal/runner"
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
		want := strings.Split(*verifiers, ",")
		for _, w := range want {
			if !slices.Contains(known, w) {
				return exitCode(2, fmt.Errorf("unknown verifier %q (known: %v)", w, known))
			}
		}
		for _, s := range scs {
			s.Verifiers = intersect(s.Verifiers, want)
			if s.IsTicket() {
				s.Strategies = nil
				for _, v := range s.Verifiers {
					st, _ := results.TicketStrategy(v)
					s.Strategies = append(s.Strategies, st)
				}
			}
		}
	}
	si, sn, err := parseShard(*shard)
	if err != nil {
		return exitCode(2, err)
	}
	// Checked before anything runs: a bad file must not cost a suite.
	var micro []byte
	if *microbench != "" {
		if micro, err = readMicrobench(*microbench); err != nil {
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
	if err := checkWritable(dir); err != nil {
		return err
	}
	if micro != nil {
		if err := outfile.Write(filepath.Join(dir, results.MicrobenchFile), func(w io.Writer) error { _, err := w.Write(micro); return err }); err != nil {
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
	res.Env = collectEnv()
	res.Env.Suite = strings.Join(paths, " ")
	if *quick {
		res.Env.Suite += " (quick)"
	}
	res.Env.HashScheme, res.Env.HashCost = hashOf(scs)
	res.Env.LoadSetup = loadSetup(*inProcess)
	if runErr != nil {
		res.Notes = append(res.Notes, "run stopped by an error: "+runErr.Error())
	}
	if err := writeOutputs(dir, res); err != nil {
		return err
	}
	if *flameDir != "" {
		if err := copyTree(filepath.Join(dir, results.DirFlamegraphs), filepath.Join(*flameDir, id)); err != nil {
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
	if failed := failedRevocations(res); failed > 0 {
		return exitCode(1, fmt.Errorf("%d revocation checks exceeded their declared bound (see the security table)", failed))
	}
	return nil
}

// writeOutputs writes results.json, the Go benchmark-format summary and
// the report into dir.
func writeOutputs(dir string, res *results.File) error {
	if err := results.Write(dir, res); err != nil {
		return err
	}
	if err := outfile.Write(filepath.Join(dir, results.BenchFile), func(w io.Writer) error { return results.WriteBenchFormat(w, res) }); err != nil {
		return err
	}
	// The analysis picks the target scenarios from the runs' Target flag.
	if err := report.Write(dir, res, report.Options{}); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// maxMicrobench bounds the microbenchmark file: make bench-go's output is
// a few kilobytes.
const maxMicrobench = 16 << 20

// readMicrobench reads and validates a microbenchmark file for --microbench.
func readMicrobench(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--microbench: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMicrobench+1))
	if err != nil {
		return nil, fmt.Errorf("--microbench: read %s: %w", path, err)
	}
	if len(data) > maxMicrobench {
		return nil, fmt.Errorf("--microbench: %s is larger than %d bytes", path, maxMicrobench)
	}
	if _, err := results.CheckMicrobench(bytes.NewReader(data), path); err != nil {
		return nil, fmt.Errorf("--microbench: %w", err)
	}
	return data, nil
}

func failedRevocations(res *results.File) int {
	n := 0
	for _, r := range res.Revocations {
		if !r.Pass {
			n++
		}
	}
	return n
}

func hashOf(scs []*scenarios.Scenario) (string, int) {
	if len(scs) == 0 {
		return "", 0
	}
	h := scs[0].Hash
	for _, s := range scs[1:] {
		if s.Hash != h {
			return "mixed (per scenario)", 0
		}
	}
	return string(h.Scheme), h.EffectiveCost()
}

func loadSetup(inProcess bool) string {
	if inProcess {
		return "servers in the load generator's process (tests only: no CPU split)"
	}
	return "each server is a separate `bench serve` process (GOMAXPROCS from the scenario, default: all cores) on loopback; the vegeta load generator runs in the `bench run` process; the no-auth control on the same server shows the generator's ceiling"
}

func parseShard(s string) (int, int, error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("--shard %q: want i/n with 1 <= i <= n", s)
	}
	return i, n, nil
}

func intersect(have, want []string) []string {
	var out []string
	for _, h := range have {
		for _, w := range want {
			if h == w {
				out = append(out, h)
			}
		}
	}
	return out
}

func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("output directory %s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
