package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/authbench/authbench/loadgen"
)

// runAttack drives the same token-authenticated load against any server,
// for example a real PBS, and prints the same metrics (no profile).
func runAttack(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("attack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "target URL, e.g. https://pbs:8007/api2/json/version (required)")
	tokensPath := fs.String("tokens", "", "tokens file, TOKENID:SECRET per line (required)")
	rate := fs.Float64("rate", 50, "offered requests per second")
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
	res, err := loadgen.Attack(ctx, tr.Targeter(), loadgen.Options{Rate: *rate, Duration: *duration, Warmup: *warmup, ResultsPath: *out})
	if err != nil {
		return err
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
