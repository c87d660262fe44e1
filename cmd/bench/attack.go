package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/authbench/authbench/internal/attack"
	"github.com/authbench/authbench/internal/shards"
)

// runAttack drives the same token-authenticated load against any server,
// for example a real PBS, and prints the same metrics (no profile). With
// --shard i/N it is one of N load generators (see docs/distributed-load.md):
// it offers rate/N and records its shard beside its results, for
// `bench report --attack` to merge.
func runAttack(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("attack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := attack.Config{Args: append([]string{"bench", "attack"}, args...)}
	fs.StringVar(&cfg.URL, "url", "", "target URL, e.g. https://pbs:8007/api2/json/version (required)")
	fs.StringVar(&cfg.TokensPath, "tokens", "", "tokens file, TOKENID:SECRET per line (required)")
	fs.Float64Var(&cfg.Rate, "rate", 50, "offered requests per second (with --shard: the total over all shards)")
	shard := fs.String("shard", "", "be load generator i of n (i/n, 1-based): offer rate/n and write a shard sidecar beside --results")
	startAt := fs.String("start-at", "", "wait until this RFC 3339 time before starting, so shards on several machines overlap (clocks synced by NTP)")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured window")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "warm-up before the window (not measured)")
	fs.StringVar(&cfg.Form, "form", "pbs", "header form: pbs, pdm or pve")
	fs.Float64Var(&cfg.Wrong, "wrong", 0, "weight of wrong-secret requests (valid has weight 1)")
	fs.StringVar(&cfg.Results, "results", "", "write vegeta results (gob) here; `vegeta report` reads it")
	fs.BoolVar(&cfg.Knee, "knee", false, "search the highest rate the server sustains instead")
	if err := fs.Parse(args); err != nil {
		return exitCode(2, err)
	}
	var err error
	if cfg.Index, cfg.Count, err = shards.Parse(*shard); err != nil {
		return exitCode(2, err)
	}
	if *startAt != "" {
		if cfg.StartAt, err = time.Parse(time.RFC3339, *startAt); err != nil {
			return exitCode(2, fmt.Errorf("--start-at: %w", err))
		}
	}
	err = attack.Run(ctx, cfg, stdout)
	if _, bad := errors.AsType[*attack.UsageError](err); bad {
		return exitCode(2, err)
	}
	return err
}
