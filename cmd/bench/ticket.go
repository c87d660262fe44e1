package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/authbench/authbench/internal/cluster"
	"github.com/authbench/authbench/internal/fusemount"
)

const ticketUsage = "usage: bench ticket cluster [flags] | node [flags] | fuse --backing DIR --mount DIR [--attr-timeout D]"

// runTicket is the ticket path of seeds 002/003: `cluster` runs the
// multi-node double-rotation experiment and writes its JSON; `node` and
// `fuse` are the child processes it starts.
func runTicket(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return exitCode(2, errors.New(ticketUsage))
	}
	switch args[0] {
	case "cluster":
		return runTicketCluster(ctx, args[1:], stdout, stderr)
	case "node", "fuse":
		return runTicketChild(ctx, args, stdout, stderr)
	}
	return exitCode(2, fmt.Errorf("unknown ticket subcommand %q; %s", args[0], ticketUsage))
}

// runTicketChild runs `bench ticket node|fuse`, the experiment's children.
func runTicketChild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := cluster.Child(ctx, args, stdout, stderr)
	switch {
	case errors.Is(err, cluster.ErrUsage):
		return exitCode(2, err)
	case fusemount.IsSkip(err):
		return exitCode(cluster.ExitSkip, err)
	}
	return err
}

func runTicketCluster(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	def := cluster.DefaultConfig()
	fs := flag.NewFlagSet("ticket cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.Int("nodes", def.Nodes, "node processes, each with its own FUSE mount")
	events := fs.String("events", strings.Join(def.Events, ","), "comma-separated events: "+strings.Join(cluster.Events(), ", "))
	strategies := fs.String("strategies", strings.Join(def.Strategies, ","), "comma-separated key-cache strategies")
	attrs := fs.String("attr-timeouts", "0s,1s,5s", "comma-separated FUSE attr_timeouts (matrix dimension)")
	trials := fs.Int("trials", def.Trials, "trials per strategy and attr_timeout")
	bits := fs.Int("key-bits", def.KeyBits, "RSA key size")
	rate := fs.Float64("rate", def.Rate, "ticket verifications per second over all nodes")
	lead := fs.Duration("lead", time.Duration(def.LeadMs)*time.Millisecond, "load before the key is aged")
	observe := fs.Duration("observe", time.Duration(def.ObserveMs)*time.Millisecond, "load after the key is aged")
	bucket := fs.Duration("bucket", time.Duration(def.BucketMs)*time.Millisecond, "timeline bucket")
	ttl := fs.Duration("ttl", time.Duration(def.TTLMs)*time.Millisecond, "content-ttl's TTL")
	out := fs.String("out", "", "write the result JSON here (default stdout)")
	work := fs.String("work", "", "directory for trial dirs and node logs (default a new temp dir, kept)")
	if err := fs.Parse(args); err != nil {
		return exitCode(2, err)
	}
	cfg := def
	cfg.Nodes, cfg.Trials, cfg.KeyBits, cfg.Rate = *nodes, *trials, *bits, *rate
	cfg.LeadMs, cfg.ObserveMs, cfg.BucketMs, cfg.TTLMs = lead.Milliseconds(), observe.Milliseconds(), bucket.Milliseconds(), ttl.Milliseconds()
	cfg.Strategies = splitList(*strategies)
	cfg.Events = splitList(*events)
	cfg.AttrTimeoutsMs = nil
	for _, a := range splitList(*attrs) {
		d, err := time.ParseDuration(a)
		if err != nil {
			return exitCode(2, fmt.Errorf("--attr-timeouts: %w", err))
		}
		cfg.AttrTimeoutsMs = append(cfg.AttrTimeoutsMs, d.Milliseconds())
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	cfg.Binary = bin
	cfg.WorkDir = *work
	if cfg.WorkDir == "" {
		if cfg.WorkDir, err = os.MkdirTemp("", "authbench-cluster-"); err != nil {
			return err
		}
	}
	cfg.Log = stderr
	if err := cfg.Validate(); err != nil {
		return exitCode(2, err)
	}
	fmt.Fprintf(stderr, "cluster experiment: work dir %s\n", cfg.WorkDir)
	res, err := cluster.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if res.Skipped != "" {
		fmt.Fprintln(stderr, "cluster experiment", res.Skipped)
	}
	for _, s := range res.Summary {
		fmt.Fprintln(stderr, s.Describe())
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}
