package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/impl/cryptpw"
	"github.com/authbench/authbench/internal/node"
)

func runServe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verifier := fs.String("verifier", "ttl", fmt.Sprintf("verifier: %v", impl.Names()))
	shadow := fs.String("shadow", "", "path of token.shadow (required)")
	addr := fs.String("addr", "127.0.0.1:8007", "listen address for API traffic")
	admin := fs.String("admin-addr", "", "loopback address for pprof, counters and bench admin (empty: off)")
	fs.StringVar(admin, "pprof-addr", "", "alias of --admin-addr")
	tls := fs.Bool("tls", false, "serve HTTPS with a self-signed certificate made at start")
	ttl := fs.Duration("ttl", impl.DefaultTTL, "ttl verifier's metadata window")
	scheme := fs.String("scheme", "sha256", "hash scheme for secrets made through the admin API")
	cost := fs.Int("cost", 0, "hash cost for those secrets (0 = default)")
	ready := fs.Bool("ready", false, "print one JSON line with the bound addresses when listening (for the runner)")
	if err := fs.Parse(args); err != nil {
		return exitCode(2, err)
	}
	if *shadow == "" {
		return exitCode(2, errors.New("--shadow is required"))
	}
	sch, err := cryptpw.ParseScheme(*scheme)
	if err != nil {
		return exitCode(2, err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	n, err := node.Start(ctx, node.Config{
		Shadow: *shadow, Verifier: *verifier, TTL: *ttl, Addr: *addr, AdminAddr: *admin,
		TLS: *tls, Scheme: sch, Cost: *cost, Logger: logger,
	})
	if err != nil {
		return err
	}
	if *ready {
		if err := node.WriteReady(stdout, n); err != nil {
			return fmt.Errorf("ready line: %w", err)
		}
	} else {
		fmt.Fprintf(stdout, "serving %s (verifier %s); no-auth control at %s/noauth/api2/json/version\n", n.URL(), *verifier, n.URL())
		if a := n.AdminURL(); a != "" {
			fmt.Fprintf(stdout, "pprof and counters at %s/debug/pprof/ and %s/authbench/stats\n", a, a)
		}
	}
	return n.Serve(ctx)
}
