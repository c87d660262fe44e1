package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbench/authbench/internal/fusemount"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/internal/runner"
	"github.com/authbench/authbench/scenarios"
)

// TestNoTicketSecretsInOutputsInProcess runs a ticket scenario through
// every stage and scans what it wrote for every ticket it sent and a
// line of each private key, in every encoding the token audit uses.
func TestNoTicketSecretsInOutputsInProcess(t *testing.T) {
	sc, err := scenarios.Load("testdata/ticket-hygiene.yaml", runner.KnownNames())
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var mu sync.Mutex
	var secrets []string
	opts := runner.Options{Quick: true, OnSecret: func(s string) { mu.Lock(); secrets = append(secrets, s); mu.Unlock() }}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res := runStages(t, ctx, out, []*scenarios.Scenario{sc}, opts)
	mu.Lock()
	defer mu.Unlock()
	tickets := 0
	for _, s := range secrets {
		if strings.HasPrefix(s, "PVE:") {
			tickets++
		}
	}
	// Two key markers, and per strategy cell at least one ticket of each
	// sort that is not garbage.
	if tickets < 8 || len(secrets) < tickets+2 {
		t.Fatalf("OnSecret saw %d tickets of %d secrets", tickets, len(secrets))
	}
	ticketRuns := 0
	for _, r := range res.Runs {
		if strings.HasPrefix(r.Verifier, "ticket/") && r.Speedscope != "" {
			ticketRuns++
		}
	}
	if ticketRuns == 0 {
		t.Fatal("no profiled ticket runs: the audit would cover nothing")
	}
	leaks, scanned := scanTree(t, out, secrets)
	requireCoverage(t, scanned, false)
	reportLeaks(t, leaks, len(secrets), len(scanned))
}

// mountsUnder lists our FUSE mounts below dir.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Skip("no /proc/self/mountinfo: cannot look for leftover mounts")
	}
	defer f.Close()
	ms, err := fusemount.Ours(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		if strings.HasPrefix(m.Dir, dir) {
			out = append(out, m.Dir)
		}
	}
	return out
}

// TestInterruptClusterUnmounts sends `bench run` of a cluster scenario an
// interrupt while its nodes' FUSE mounts are up: it exits 130, keeps the
// cells that finished (or none) in results.json marked interrupted, and
// leaves no mount and no node process behind.
func TestInterruptClusterUnmounts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bench binary and mounts FUSE file systems")
	}
	if err := fusemount.Available(); err != nil {
		t.Skipf("FUSE unavailable here, nothing to unmount: %v", err)
	}
	tmp, work := t.TempDir(), t.TempDir()
	bin := buildBench(t)
	scenario := filepath.Join(tmp, "c.yaml")
	src := "# Question: interrupt\nauth: ticket\nstrategies: [mtime, mtime-reopen]\ncluster: {trials: 3, attr_timeouts: [1s], observe: 3s, key_bits: 1024}\n"
	if err := os.WriteFile(scenario, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	outRoot := filepath.Join(work, "reports")
	cmd := exec.CommandContext(ctx, bin, "run", "--id", "int", "--out", outRoot, "--flamegraphs", "", scenario)
	cmd.Dir = work
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the first trial's mounts are up, then interrupt.
	deadline := time.Now().Add(30 * time.Second)
	for len(mountsUnder(t, outRoot)) == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no mount appeared under the run directory: the check below would prove nothing")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("bench run after interrupt: %v, want exit 130", err)
	}
	res, err := results.Read(filepath.Join(outRoot, "int"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted {
		t.Error("results.json not marked interrupted")
	}
	if left := mountsUnder(t, outRoot); len(left) > 0 {
		t.Errorf("mounts left behind: %v", left)
	}
	if left := processesOf(t, bin, ""); len(left) > 0 {
		t.Errorf("processes of the binary left behind: pids %v", left)
	}
}
