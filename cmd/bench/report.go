package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/authbench/authbench/internal/browser"
	"github.com/authbench/authbench/internal/report"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/loadgen"
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

// File names bench report --attack writes into its output directory.
const (
	attackMergedResults = "merged.bin"
	attackSummaryJSON   = "attack.json"
	attackSummaryMD     = "attack.md"
)

// loadedShard is a sidecar with the path of its results file.
type loadedShard struct {
	attackShard
	sidecar, results string
}

// loadShards reads the sidecars named by args: directories are searched
// (not recursively) for *.shard.json.
func loadShards(args []string) ([]loadedShard, error) {
	var paths []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			paths = append(paths, a)
			continue
		}
		found, err := filepath.Glob(filepath.Join(escapeGlob(a), "*"+shardSuffix))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no shard sidecars (*%s); was bench attack run with --shard and --results there?", a, shardSuffix)
		}
		paths = append(paths, found...)
	}
	var shards []loadedShard
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("shard sidecar: %w", err)
		}
		var sc loadedShard
		if err := json.Unmarshal(data, &sc.attackShard); err != nil {
			return nil, fmt.Errorf("shard sidecar %s: %w", p, err)
		}
		if sc.Count < 1 || sc.Index < 1 || sc.Index > sc.Count || sc.ResultsFile == "" || filepath.Base(sc.ResultsFile) != sc.ResultsFile {
			return nil, fmt.Errorf("shard sidecar %s: shard %d/%d, results %q: not a bench attack shard", p, sc.Index, sc.Count, sc.ResultsFile)
		}
		sc.sidecar, sc.results = p, filepath.Join(filepath.Dir(p), sc.ResultsFile)
		shards = append(shards, sc)
	}
	return shards, nil
}

// escapeGlob quotes glob metacharacters in a directory name.
func escapeGlob(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(s)
}

// checkShards makes sure the shards are one load: the same shard count,
// no index twice (that would count its load twice). It returns the
// indices missing from 1..n and the shards sorted by index.
func checkShards(shards []loadedShard) (missing []int, err error) {
	if len(shards) == 0 {
		return nil, errors.New("no shards to merge")
	}
	slices.SortFunc(shards, func(a, b loadedShard) int { return a.Index - b.Index })
	n := shards[0].Count
	seen := map[int]string{}
	for _, s := range shards {
		if s.Count != n {
			return nil, fmt.Errorf("%s is shard %s but %s is of %d shards: not one load", s.sidecar, s.Shard, shards[0].sidecar, n)
		}
		if prev, dup := seen[s.Index]; dup {
			return nil, fmt.Errorf("shard %d/%d twice: %s and %s", s.Index, n, prev, s.sidecar)
		}
		seen[s.Index] = s.sidecar
	}
	for i := 1; i <= n; i++ {
		if _, ok := seen[i]; !ok {
			missing = append(missing, i)
		}
	}
	return missing, nil
}

// attackSummary is attack.json: the merged load of all shards.
type attackSummary struct {
	Shards        int             `json:"shards"` // n of i/n
	Merged        []int           `json:"merged"` // shard indices found
	MissingShards []int           `json:"missing_shards,omitempty"`
	OfferedRPS    float64         `json:"offered_rps"`     // sum over the merged shards
	AchievedRPS   float64         `json:"achieved_rps"`    // merged requests / merged send window
	ShardRPSSum   float64         `json:"shard_rps_sum"`   // sum of each shard's own achieved rate
	ShortOfTarget bool            `json:"short_of_target"` // achieved < 99 % of offered
	Requests      uint64          `json:"requests"`        //
	SuccessRatio  float64         `json:"success_ratio"`   // 2xx/3xx over all
	StatusCodes   map[string]int  `json:"status_codes"`    //
	Start         time.Time       `json:"start"`           // first request sent
	End           time.Time       `json:"end"`             // last request sent
	Overlap       float64         `json:"overlap"`         // time all shards ran / merged window
	Latency       results.Latency `json:"latency_us"`      // of all requests together
	MeanUS        float64         `json:"mean_us"`
	ResultsFile   string          `json:"results_file"` // merged vegeta results
	PerShard      []shardSummary  `json:"per_shard"`
}

type shardSummary struct {
	Shard        string          `json:"shard"`
	Host         string          `json:"host,omitempty"`
	OfferedRPS   float64         `json:"offered_rps"`
	AchievedRPS  float64         `json:"achieved_rps"`
	Requests     uint64          `json:"requests"`
	SuccessRatio float64         `json:"success_ratio"`
	Latency      results.Latency `json:"latency_us"`
	Start        time.Time       `json:"start"`
	End          time.Time       `json:"end"`
	Interrupted  bool            `json:"interrupted,omitempty"`
	ResultsFile  string          `json:"results_file"` // as given to the merge
}

// mergeAttack merges the shards named by args into dest.
func mergeAttack(args []string, dest string, stdout io.Writer) error {
	shards, err := loadShards(args)
	if err != nil {
		return exitCode(2, err)
	}
	missing, err := checkShards(shards)
	if err != nil {
		return exitCode(2, err)
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	sum := attackSummary{Shards: shards[0].Count, MissingShards: missing, ResultsFile: attackMergedResults}
	inputs := make([]string, len(shards))
	var latestStart, earliestEnd time.Time
	idle := false // a shard that sent nothing never ran together with the others
	for i, s := range shards {
		inputs[i] = s.results
		m, err := loadgen.MetricsFromFile(s.results)
		if err != nil {
			return exitCode(2, fmt.Errorf("shard %s: %w", s.Shard, err))
		}
		sum.Merged = append(sum.Merged, s.Index)
		sum.OfferedRPS += s.OfferedRPS
		sum.ShardRPSSum += m.Rate
		sum.PerShard = append(sum.PerShard, shardSummary{
			Shard: s.Shard, Host: s.Host, OfferedRPS: s.OfferedRPS, AchievedRPS: m.Rate, Requests: m.Requests,
			SuccessRatio: m.Success, Latency: latencyUS(m), Start: m.Earliest, End: m.Latest,
			Interrupted: s.Interrupted, ResultsFile: s.results,
		})
		idle = idle || m.Requests == 0
		if i == 0 || m.Earliest.After(latestStart) {
			latestStart = m.Earliest
		}
		if i == 0 || m.Latest.Before(earliestEnd) {
			earliestEnd = m.Latest
		}
	}
	merged := filepath.Join(dest, attackMergedResults)
	if err := loadgen.MergeResults(merged, inputs...); err != nil {
		return err
	}
	m, err := loadgen.MetricsFromFile(merged)
	if err != nil {
		return err
	}
	sum.AchievedRPS, sum.Requests, sum.SuccessRatio = m.Rate, m.Requests, m.Success
	sum.ShortOfTarget = sum.AchievedRPS < 0.99*sum.OfferedRPS
	sum.StatusCodes, sum.Latency, sum.MeanUS = m.StatusCodes, latencyUS(m), us(m.Latencies.Mean)
	sum.Start, sum.End = m.Earliest, m.Latest
	if window := m.Latest.Sub(m.Earliest); window > 0 && !idle && earliestEnd.After(latestStart) {
		sum.Overlap = float64(earliestEnd.Sub(latestStart)) / float64(window)
	}
	data, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return fmt.Errorf("attack summary: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dest, attackSummaryJSON), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("attack summary: %w", err)
	}
	md := attackMarkdown(sum)
	if err := os.WriteFile(filepath.Join(dest, attackSummaryMD), md, 0o644); err != nil {
		return fmt.Errorf("attack summary: %w", err)
	}
	stdout.Write(md)
	fmt.Fprintln(stdout, filepath.Join(dest, attackSummaryMD))
	return nil
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// latencyUS takes the latency distribution of m in results' units.
func latencyUS(m *vegeta.Metrics) results.Latency {
	l := m.Latencies
	return results.Latency{P50: us(l.P50), P90: us(l.P90), P99: us(l.P99), P999: us(l.Quantile(0.999)), Max: us(l.Max)}
}

// attackMarkdown renders attack.md; it is golden-tested.
func attackMarkdown(s attackSummary) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Merged load: %d of %d shards\n\n", len(s.Merged), s.Shards)
	if len(s.MissingShards) > 0 {
		fmt.Fprintf(&b, "**WARNING: shards %s missing**: the offered rate and the distribution below cover only the shards found.\n\n", joinInts(s.MissingShards))
	}
	fmt.Fprintf(&b, "Offered %.1f req/s (sum of the shards), achieved %.1f req/s over the merged window (%s; the shards' own rates sum to %.1f req/s).\n",
		s.OfferedRPS, s.AchievedRPS, s.End.Sub(s.Start).Round(time.Millisecond), s.ShardRPSSum)
	if s.ShortOfTarget {
		b.WriteString("**Achieved fell short of offered** (by more than 1 %): a generator or the server was saturated, or the shards did not overlap.\n")
	}
	fmt.Fprintf(&b, "%d requests, %.2f %% success, status codes %s. All shards ran together for %.0f %% of the merged window", s.Requests, 100*s.SuccessRatio, codes(s.StatusCodes), 100*s.Overlap)
	if s.Overlap < 0.9 {
		b.WriteString(" — **start the shards together** (`--start-at`), else the combined rate understates the load they offered")
	}
	b.WriteString(".\n\n")
	b.WriteString("Latency of all requests together (from the merged raw results, as `vegeta report merged.bin` computes it):\n\n")
	b.WriteString("| p50 | p90 | p99 | p99.9 | max | mean |\n|---|---|---|---|---|---|\n")
	l := s.Latency
	fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n\n", fmtUS(l.P50), fmtUS(l.P90), fmtUS(l.P99), fmtUS(l.P999), fmtUS(l.Max), fmtUS(s.MeanUS))
	b.WriteString("| shard | host | offered req/s | achieved req/s | requests | success | p50 | p99 | first request (UTC) |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range s.PerShard {
		note := ""
		if p.Interrupted {
			note = " (interrupted)"
		}
		fmt.Fprintf(&b, "| %s%s | %s | %.1f | %.1f | %d | %.2f %% | %s | %s | %s |\n", p.Shard, note, orDashMD(p.Host), p.OfferedRPS, p.AchievedRPS,
			p.Requests, 100*p.SuccessRatio, fmtUS(p.Latency.P50), fmtUS(p.Latency.P99), fmtClock(p.Start))
	}
	fmt.Fprintf(&b, "\nMerged vegeta results: `%s`.\n", s.ResultsFile)
	return []byte(b.String())
}

func fmtClock(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("15:04:05.000")
}

func fmtUS(v float64) string {
	return time.Duration(v * float64(time.Microsecond)).Round(time.Microsecond).String()
}

func orDashMD(s string) string {
	if s == "" {
		return "—"
	}
	return strings.NewReplacer("|", `\|`).Replace(s)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// codes renders a status-code histogram in code order.
func codes(m map[string]int) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
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
