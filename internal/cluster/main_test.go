package cluster

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
)

// childEnv makes the test binary act as `bench ticket node|fuse` when the
// driver or a node re-executes it, so the package tests need no bench build.
const childEnv = "AUTHBENCH_CLUSTER_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" && len(os.Args) > 1 && os.Args[1] == "ticket" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := Child(ctx, os.Args[2:], os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(ExitSkip)
		}
		os.Exit(0)
	}
	os.Setenv(childEnv, "1")
	// Node and FUSE children are this binary: under -race each would sleep
	// 1 s at exit (the race runtime's default atexit_sleep_ms), twice per
	// node stop.
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	os.Exit(m.Run())
}
