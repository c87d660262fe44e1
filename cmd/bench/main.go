// Command bench is authbench's command line: token administration, a
// standalone server, load against any server, benchmark suites, reports and
// the regression gate. Each subcommand is a thin layer over a package.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	// The peers register their verifiers with impl here, at the edge:
	// impl itself links none of their dependencies.
	_ "github.com/authbench/authbench/peers/k8s"
)

// exitError carries a specific exit code (for example 1 = "verified false"
// or "regression", 2 = usage or runtime error).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(code int, err error) error { return &exitError{code, err} }

type command struct {
	name  string
	usage string
	run   func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"token", "add|rotate|delete|list|gen|verify --shadow PATH ...  administer token.shadow", runToken},
		{"serve", "--verifier NAME --shadow PATH [--ticket-strategy S --authkey-dir DIR] [--addr A] [--tls] [--pprof-addr A]  run the server", runServe},
		{"run", "[--quick] [--shard i/n] SCENARIO.yaml...  run scenarios, write reports/<run-id>/", runRun},
		{"report", "DIR... | --attack DIR... | --check DIR  regenerate (or merge shards into) a report from saved results", runReport},
		{"compare", "[--tolerance F] RUN_A RUN_B  compare two runs' ratios with intervals (0 agree, 1 disagree, 2 error)", runCompare},
		{"attack", "--url URL --tokens FILE [--rate R] [--duration D] [--shard i/n] [--start-at T]  load any server", runAttack},
		{"history", "[--min-segment 3] [--min-effect F] DIR...  change points over saved runs (one per commit): the commit where a step begins", runHistory},
		{"gate", "--results DIR | --base REF | --baseline OLD.txt --candidate NEW.txt | --calibrate  performance gates", runGate},
		{"ticket", "cluster [--strategies L] [--attr-timeouts 0s,1s,5s] [--trials N] [--out F] | node | fuse  seed 002 FUSE double-rotation experiment", runTicket},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: bench COMMAND [flags]")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w, "Run 'bench COMMAND -h' for a command's flags.")
}

func main() {
	// Ctrl-C cancels the context: long commands save what finished.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdin, stdout, stderr)
		if err == nil {
			return 0
		}
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.err != nil && ee.code != 1 || ee.err != nil && ee.err.Error() != "" {
				fmt.Fprintln(stderr, "bench "+c.name+":", ee.err)
			}
			return ee.code
		}
		fmt.Fprintln(stderr, "bench "+c.name+":", err)
		return 2
	}
	fmt.Fprintf(stderr, "bench: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}
