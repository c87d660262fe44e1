package attack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/authbench/authbench/internal/shards"
	"github.com/authbench/authbench/loadgen"
)

// Config is one attack. Index and Count are the shard (1-based; Count 0:
// not sharded); Rate is the total over all shards.
type Config struct {
	URL, TokensPath  string
	Rate             float64
	Index, Count     int
	StartAt          time.Time // zero: start now
	Duration, Warmup time.Duration
	Form             string // pbs, pdm or pve
	Wrong            float64
	Results          string // vegeta results file (gob); required with a shard
	Knee             bool
	Args             []string // the command line, recorded (redacted) in the sidecar
}

// UsageError is a configuration or input the attack refuses before any
// load: the caller's exit 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usage(err error) error { return &UsageError{err} }

// Run validates cfg, checks the target answers, and runs the attack or the
// knee search, printing its summary to w.
func Run(ctx context.Context, cfg Config, w io.Writer) error {
	if cfg.URL == "" || cfg.TokensPath == "" {
		return usage(errors.New("--url and --tokens are required"))
	}
	if cfg.Count > 0 && (cfg.Results == "" || cfg.Knee) {
		return usage(errors.New("--shard needs --results (the file the merge reads) and cannot search a knee"))
	}
	offered := cfg.Rate
	if cfg.Count > 0 {
		offered = cfg.Rate / float64(cfg.Count)
	}
	toks, err := loadgen.ReadTokens(cfg.TokensPath)
	if err != nil {
		return usage(err)
	}
	form, err := loadgen.ParseForm(cfg.Form)
	if err != nil {
		return usage(err)
	}
	tr, err := loadgen.NewMixTargeter(cfg.URL, toks, loadgen.Mix{Valid: 1, WrongSecret: cfg.Wrong}, form, 1)
	if err != nil {
		return usage(err)
	}
	if err := probeReachable(ctx, cfg.URL); err != nil {
		return err
	}
	if cfg.Knee {
		k, err := loadgen.FindKnee(ctx, tr.Targeter, loadgen.KneeOptions{StartRate: cfg.Rate, StepDuration: cfg.Duration / 4})
		if err != nil {
			return err
		}
		for _, s := range k.Steps {
			fmt.Fprintf(w, "offered %8.0f/s achieved %8.1f/s p99 %-10s good=%v %s\n", s.Offered, s.Result.AchievedRPS, s.Result.Metrics.Latencies.P99, s.Good, s.Reason)
		}
		fmt.Fprintf(w, "knee: %.0f req/s\n", k.Rate)
		return nil
	}
	if err := sleepUntil(ctx, cfg.StartAt); err != nil {
		return err
	}
	name := ""
	if cfg.Count > 0 {
		name = fmt.Sprintf("shard-%d-of-%d", cfg.Index, cfg.Count)
	}
	res, err := loadgen.Attack(ctx, tr.Targeter(), loadgen.Options{Name: name, Rate: offered, Duration: cfg.Duration, Warmup: cfg.Warmup, ResultsPath: cfg.Results})
	if err != nil {
		return err
	}
	if cfg.Count > 0 {
		if err := writeSidecar(cfg, offered, res, w); err != nil {
			return err
		}
	}
	m := res.Metrics
	fmt.Fprintf(w, "requests %d  offered %.1f/s  achieved %.1f/s  success %.2f%%  expected %.2f%%\n", m.Requests, res.OfferedRPS, res.AchievedRPS, 100*m.Success, 100*res.ExpectedRatio)
	fmt.Fprintf(w, "latency p50 %s  p90 %s  p99 %s  max %s\n", m.Latencies.P50, m.Latencies.P90, m.Latencies.P99, m.Latencies.Max)
	fmt.Fprintf(w, "status codes %v\n", res.StatusCodes)
	if res.ShortOfTarget {
		fmt.Fprintln(w, "WARNING: achieved rate fell short of the offered rate (the client or the server is saturated)")
	}
	return nil
}

// writeSidecar records this shard beside its results for the merge.
func writeSidecar(cfg Config, offered float64, res *loadgen.Result, w io.Writer) error {
	sc := shards.Sidecar{
		Shard: fmt.Sprintf("%d/%d", cfg.Index, cfg.Count), Index: cfg.Index, Count: cfg.Count,
		OfferedRPS: offered, TotalOfferedRPS: cfg.Rate,
		Start: res.Start, End: res.End, DurationS: cfg.Duration.Seconds(), WarmupS: cfg.Warmup.Seconds(),
		ResultsFile: filepath.Base(cfg.Results), Requests: res.Metrics.Requests, AchievedRPS: res.AchievedRPS,
		Interrupted: res.Interrupted, Command: shards.RedactArgs(cfg.Args),
	}
	if !cfg.StartAt.IsZero() {
		at := cfg.StartAt
		sc.StartAt = &at
	}
	sc.Host, _ = os.Hostname() // informational; empty if unknown
	path := shards.SidecarPath(cfg.Results)
	if err := shards.WriteSidecar(path, sc); err != nil {
		return err
	}
	fmt.Fprintf(w, "shard %s: offered %.1f/s of %.1f/s total; results %s, sidecar %s\n", sc.Shard, offered, cfg.Rate, cfg.Results, path)
	return nil
}

// probeReachable fails fast with a clear message when nothing answers at
// url, instead of a run full of connection errors.
func probeReachable(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return usage(fmt.Errorf("bad --url: %w", err))
	}
	// The target is any server, often with a self-signed certificate (PBS
	// ships one); the probe only asks whether something answers.
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Do(req)
	if err != nil {
		return usage(fmt.Errorf("cannot reach %s: %w", url, err))
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
