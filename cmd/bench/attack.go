package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/authbench/authbench/internal/shards"
	"github.com/authbench/authbench/loadgen"
)

// runAttack drives the same token-authenticated load against any server,
// for example a real PBS, and prints the same metrics (no profile). With
// --shard i/N it is one of N load generators (see docs/distributed-load.md):
// it offers rate/N and records its shard beside its results, for
// `bench report --attack` to merge.
func runAttack(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("attack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "target URL, e.g. https://pbs:8007/api2/json/version (required)")
	tokensPath := fs.String("tokens", "", "tokens file, TOKENID:SECRET per line (required)")
	rate := fs.Float64("rate", 50, "offered requests per second (with --shard: the total over all shards)")
	shard := fs.String("shard", "", "be load generator i of n (i/n, 1-based): offer rate/n and write a shard sidecar beside --results")
	startAt := fs.String("start-at", "", "wait until this RFC 3339 time before starting, so shards on several machines overlap (clocks synced by NTP)")
	duration := fs.Duration("duration", 10*time.Second, "measured window")
	warmup := fs.Duration("warmup", 2*time.Second, "warm-up before the window (not measured)")
	formName := fs.String("form", "pbs", "header form: pbs, pdm or pve")
	wrong := fs.Float64("wrong", 0, "weight of wrong-secret requests (valid has weight 1)")
	out := fs.String("results", "", "write vegeta results (gob) here; `vegeta report` reads it")
	knee := fs.Bool("knee", false, "search the highest rate the server sustains instead")
	if err := fs.Parse(args); err != nil {
		return exitCode(2, err)
	}
	if *url == "" || *tokensPath == "" {
		return exitCode(2, errors.New("--url and --tokens are required"))
	}
	si, sn, err := parseShard(*shard)
	if err != nil {
		return exitCode(2, err)
	}
	if sn > 0 && (*out == "" || *knee) {
		return exitCode(2, errors.New("--shard needs --results (the file the merge reads) and cannot search a knee"))
	}
	var at time.Time
	if *startAt != "" {
		if at, err = time.Parse(time.RFC3339, *startAt); err != nil {
			return exitCode(2, fmt.Errorf("--start-at: %w", err))
		}
	}
	offered := *rate
	if sn > 0 {
		offered = *rate / float64(sn)
	}
	toks, err := loadgen.ReadTokens(*tokensPath)
	if err != nil {
		return exitCode(2, err)
	}
	form, err := loadgen.ParseForm(*formName)
	if err != nil {
		return exitCode(2, err)
	}
	tr, err := loadgen.NewMixTargeter(*url, toks, loadgen.Mix{Valid: 1, WrongSecret: *wrong}, form, 1)
	if err != nil {
		return exitCode(2, err)
	}
	if err := probeReachable(ctx, *url); err != nil {
		return err
	}
	if *knee {
		k, err := loadgen.FindKnee(ctx, tr.Targeter, loadgen.KneeOptions{StartRate: *rate, StepDuration: *duration / 4})
		if err != nil {
			return err
		}
		for _, s := range k.Steps {
			fmt.Fprintf(stdout, "offered %8.0f/s achieved %8.1f/s p99 %-10s good=%v %s\n", s.Offered, s.Result.AchievedRPS, s.Result.Metrics.Latencies.P99, s.Good, s.Reason)
		}
		fmt.Fprintf(stdout, "knee: %.0f req/s\n", k.Rate)
		return nil
	}
	if err := sleepUntil(ctx, at); err != nil {
		return err
	}
	name := ""
	if sn > 0 {
		name = fmt.Sprintf("shard-%d-of-%d", si, sn)
	}
	res, err := loadgen.Attack(ctx, tr.Targeter(), loadgen.Options{Name: name, Rate: offered, Duration: *duration, Warmup: *warmup, ResultsPath: *out})
	if err != nil {
		return err
	}
	if sn > 0 {
		sc := shards.Sidecar{
			Shard: fmt.Sprintf("%d/%d", si, sn), Index: si, Count: sn,
			OfferedRPS: offered, TotalOfferedRPS: *rate,
			Start: res.Start, End: res.End, DurationS: duration.Seconds(), WarmupS: warmup.Seconds(),
			ResultsFile: filepath.Base(*out), Requests: res.Metrics.Requests, AchievedRPS: res.AchievedRPS,
			Interrupted: res.Interrupted, Command: shards.RedactArgs(append([]string{"bench", "attack"}, args...)),
		}
		if !at.IsZero() {
			sc.StartAt = &at
		}
		sc.Host, _ = os.Hostname() // informational; empty if unknown
		if err := shards.WriteSidecar(shards.SidecarPath(*out), sc); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "shard %s: offered %.1f/s of %.1f/s total; results %s, sidecar %s\n", sc.Shard, offered, *rate, *out, shards.SidecarPath(*out))
	}
	m := res.Metrics
	fmt.Fprintf(stdout, "requests %d  offered %.1f/s  achieved %.1f/s  success %.2f%%  expected %.2f%%\n", m.Requests, res.OfferedRPS, res.AchievedRPS, 100*m.Success, 100*res.ExpectedRatio)
	fmt.Fprintf(stdout, "latency p50 %s  p90 %s  p99 %s  max %s\n", m.Latencies.P50, m.Latencies.P90, m.Latencies.P99, m.Latencies.Max)
	fmt.Fprintf(stdout, "status codes %v\n", res.StatusCodes)
	if res.ShortOfTarget {
		fmt.Fprintln(stdout, "WARNING: achieved rate fell short of the offered rate (the client or the server is saturated)")
	}
	return nil
}

// probeReachable fails fast with a clear message when nothing answers at
// url, instead of a run full of connection errors.
func probeReachable(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return exitCode(2, fmt.Errorf("bad --url: %w", err))
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Do(req)
	if err != nil {
		return exitCode(2, fmt.Errorf("cannot reach %s: %w", url, err))
	}
	resp.Body.Close()
	return nil
}

// sleepUntil waits for t (no wait if zero or past); ctx cancels the wait.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if t.IsZero() || d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for --start-at: %w", ctx.Err())
	}
}
