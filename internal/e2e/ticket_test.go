package e2e

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

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
