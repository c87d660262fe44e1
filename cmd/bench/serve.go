package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/impl/cryptpw"
	"github.com/authbench/authbench/impl/ticket"
	"github.com/authbench/authbench/internal/node"
	"github.com/authbench/authbench/internal/server"
	"github.com/authbench/authbench/peers/k8s"
)

// ticketStrategyNames lists impl/ticket's strategies for flag help.
func ticketStrategyNames() []string {
	var out []string
	for _, s := range ticket.Strategies() {
		out = append(out, s.Name)
	}
	return out
}

func runServe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verifier := fs.String("verifier", "ttl", fmt.Sprintf("verifier: %v", impl.Names()))
	shadow := fs.String("shadow", "", "path of token.shadow (required)")
	addr := fs.String("addr", "127.0.0.1:8007", "listen address for API traffic")
	admin := fs.String("admin-addr", "", "loopback address for pprof, counters and bench admin (empty: off)")
	fs.StringVar(admin, "pprof-addr", "", "alias of --admin-addr")
	tls := fs.Bool("tls", false, "serve HTTPS with a self-signed certificate made at start")
	ttl := fs.Duration("ttl", 0, fmt.Sprintf("TTL of the ttl family's metadata window and of k8s' success cache (0: each verifier's default, %s and %s)", impl.DefaultTTL, k8s.DefaultSuccessTTL))
	scheme := fs.String("scheme", "sha256", "hash scheme for secrets made through the admin API")
	cost := fs.Int("cost", 0, "hash cost for those secrets (0 = default)")
	strategy := fs.String("ticket-strategy", "", "also serve "+server.PathTicketVersion+" behind PVEAuthCookie tickets with this key-cache strategy: "+strings.Join(ticketStrategyNames(), ", "))
	authkeyDir := fs.String("authkey-dir", "", "directory with authkey.pub, authkey.pub.old and priv/authkey.key (with --ticket-strategy)")
	ready := fs.Bool("ready", false, "print one JSON line with the bound addresses when listening (for the runner)")
	if err := fs.Parse(args); err != nil {
		return exitCode(2, err)
	}
	if *shadow == "" {
		return exitCode(2, errors.New("--shadow is required"))
	}
	if (*strategy == "") != (*authkeyDir == "") {
		return exitCode(2, errors.New("--ticket-strategy and --authkey-dir go together"))
	}
	if *strategy != "" {
		if _, err := ticket.LookupStrategy(*strategy); err != nil {
			return exitCode(2, err)
		}
	}
	sch, err := cryptpw.ParseScheme(*scheme)
	if err != nil {
		return exitCode(2, err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	n, err := node.Start(ctx, node.Config{
		Shadow: *shadow, Verifier: *verifier, TTL: *ttl, Addr: *addr, AdminAddr: *admin,
		TLS: *tls, Scheme: sch, Cost: *cost, Logger: logger,
		TicketStrategy: *strategy, AuthkeyDir: *authkeyDir,
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
		if *strategy != "" {
			fmt.Fprintf(stdout, "PVEAuthCookie tickets (%s) at %s%s\n", *strategy, n.URL(), server.PathTicketVersion)
		}
		if a := n.AdminURL(); a != "" {
			fmt.Fprintf(stdout, "pprof and counters at %s/debug/pprof/ and %s/authbench/stats\n", a, a)
		}
	}
	return n.Serve(ctx)
}
