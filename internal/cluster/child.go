package cluster

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/authbench/authbench/impl/ticket"
)

// ErrUsage marks bad child arguments (exit code 2 in bench).
var ErrUsage = errors.New("usage")

// Child runs a child process of the experiment: args are what follows
// `bench ticket`, "node ..." or "fuse ...". A *fusemount.SkipError means
// FUSE is unavailable; errors wrapping ErrUsage are bad flags.
func Child(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: node|fuse [flags]", ErrUsage)
	}
	fs := flag.NewFlagSet("ticket "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c NodeConfig
	fs.StringVar(&c.Backing, "backing", "", "shared key directory (required)")
	fs.StringVar(&c.Mount, "mount", "", "this node's FUSE mountpoint (required)")
	fs.DurationVar(&c.AttrTimeout, "attr-timeout", 0, "FUSE attr_timeout and entry_timeout of the mount")
	if args[0] == "node" {
		fs.IntVar(&c.Index, "index", 0, "node number (for logs)")
		fs.StringVar(&c.Lock, "lock", "", "cluster lock file (default BACKING/authkey.lock)")
		fs.StringVar(&c.Strategy, "strategy", "mtime", "key cache: "+strings.Join(StrategyNames(), ", "))
		fs.DurationVar(&c.TTL, "ttl", time.Second, "content-ttl's TTL")
		fs.IntVar(&c.KeyBits, "key-bits", ticket.DefaultKeyBits, "RSA key size for rotations")
		fs.DurationVar(&c.CheckInterval, "check-interval", 0, "run PVE's rotation check this often (0: only on request)")
		fs.StringVar(&c.Addr, "addr", "127.0.0.1:0", "listen address")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if c.Backing == "" || c.Mount == "" {
		return fmt.Errorf("%w: --backing and --mount are required", ErrUsage)
	}
	switch args[0] {
	case "fuse":
		return RunFUSE(ctx, c.Backing, c.Mount, c.AttrTimeout, stdout)
	case "node":
		if _, err := ticket.LookupStrategy(c.Strategy); err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		if c.Lock == "" {
			c.Lock = filepath.Join(c.Backing, "authkey.lock")
		}
		return RunNode(ctx, c, stdout, stderr)
	}
	return fmt.Errorf("%w: unknown ticket subcommand %q", ErrUsage, args[0])
}

// StrategyNames lists the key-cache strategies in report order.
func StrategyNames() []string {
	var names []string
	for _, s := range ticket.Strategies() {
		names = append(names, s.Name)
	}
	return names
}
